/* The line being spoken, under an audio talk's player, from its WebVTT captions
   track: browsers draw captions only over video. The transcript below the player
   carries the same words for readers without JavaScript. */
(function () {
    "use strict";
    document.querySelectorAll(".talk-player").forEach(function (player) {
        var audio = player.querySelector("audio");
        var track = audio && audio.querySelector("track[kind=captions]");
        var caption = player.querySelector(".talk-caption");
        if (!track || !track.track || !caption) {
            return;
        }
        var text = caption.querySelector(".talk-caption__text");
        var cues = track.track;
        // Load the cues and report changes without drawing anything.
        cues.mode = "hidden";
        cues.addEventListener("cuechange", function () {
            var lines = [];
            for (var i = 0; i < (cues.activeCues || []).length; i++) {
                lines.push(cues.activeCues[i].getCueAsHTML().textContent);
            }
            text.textContent = lines.join("\n");
        });
        caption.hidden = false;
    });
})();
