/* The line being spoken, under an audio talk's player, from its WebVTT captions
   track: browsers draw captions only over video. The transcript below the player
   carries the same words for readers without JavaScript. */
(function () {
    "use strict";
    // NodeList.forEach is missing from older phone browsers.
    Array.prototype.forEach.call(document.querySelectorAll(".talk-player"), function (player) {
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
        // Shown once the captions file has loaded: a missing or empty file
        // leaves no box waiting for words that never come.
        function reveal() {
            if (cues.cues && cues.cues.length) {
                caption.hidden = false;
            }
        }
        track.addEventListener("load", reveal);
        reveal();
    });
})();
