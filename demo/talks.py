"""The talks section: the talk index, four speakers from a partner counselling
centre and six recorded talks, two of them for grid workers only. Every talk has
a real, tiny recording, a poster, WebVTT captions and a transcript."""

import datetime

from demo import assets, content
from portal.talks.models import Speaker, TalkIndexPage, TalkPage
from portal.talks.privacy import restrict_to_staff


def seed(home):
    """Create the talk index, speakers and talks under the home page; running it
    again changes nothing."""
    data = content("talks")
    fields = data["index"]
    index = TalkIndexPage.objects.child_of(home).filter(slug=fields["slug"]).first()
    if index is None:
        index = TalkIndexPage(
            title=fields["title"],
            slug=fields["slug"],
            intro=fields["intro"],
            search_description=fields["intro"],
            show_in_menus=True,
        )
        home.add_child(instance=index)
    speakers = {
        speaker["name"]: _speaker(speaker, data["institution"]) for speaker in data["speakers"]
    }
    for talk_data in data["talks"]:
        talk = TalkPage.objects.child_of(index).filter(slug=talk_data["slug"]).first()
        if talk is None:
            talk = _create_talk(index, talk_data, speakers[talk_data["speaker"]], data["videos"])
        if talk_data["staff_only"]:
            restrict_to_staff(talk)
    return index


def _speaker(data, institution):
    speaker, _created = Speaker.objects.get_or_create(
        name=data["name"], defaults={"title": f"{data['title']},{institution}", "bio": data["bio"]}
    )
    return speaker


def _create_talk(index, data, speaker, videos):
    title, slug = data["title"], data["slug"]
    talk = TalkPage(
        title=title,
        slug=slug,
        summary=data["summary"],
        search_description=data["summary"],
        speaker=speaker,
        recorded_on=datetime.date.fromisoformat(data["recorded_on"]),
        featured=data["featured"],
        audience=TalkPage.Audience.STAFF if data["staff_only"] else TalkPage.Audience.RESIDENTS,
        media=_recording(data, videos),
        poster=assets.image(
            f"讲座封面:{title}", f"{slug}-poster.jpg", lambda: assets.talk_poster(*data["colours"])
        ),
        captions=assets.document(
            f"讲座字幕:{title}", f"{slug}.vtt", lambda: assets.webvtt(data["cues"])
        ),
        transcript=assets.rich_text(data["transcript"]),
    )
    talk.tags.add(*data["tags"])
    index.add_child(instance=talk)
    talk.save_revision().publish()
    return talk


def _recording(data, videos):
    """The talk's audio (a tone written now) or video (a file from the drawer)."""
    title = f"讲座录音录像:{data['title']}"
    if "audio_tone" in data:
        return assets.recording(
            title,
            f"{data['slug']}.wav",
            lambda: assets.tone_wav(data["audio_tone"]),
            type="audio",
            duration=assets.RECORDING_SECONDS,
        )
    name = data["video"]
    extension = name.rsplit(".", 1)[1]
    return assets.recording(
        title,
        f"{data['slug']}.{extension}",
        lambda: assets.video_file(name),
        type="video",
        duration=videos[name]["seconds"],
        width=videos[name]["width"],
        height=videos[name]["height"],
    )
