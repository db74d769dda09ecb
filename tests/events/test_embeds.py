"""External players: stream URLs to privacy-friendly embeds, and what is refused."""

from __future__ import annotations

import datetime as dt

import pytest

from live.errors import Invalid
from live.events import embeds
from live.events.document import EventDoc, OccurrenceDoc
from live.events.domain import validate
from live.events.embeds import EmbedRefused, parse_stream_url, stream_url_problem

VIDEO = "dQw4w9WgXcQ"
NOCOOKIE = f"https://www.youtube-nocookie.com/embed/{VIDEO}"


@pytest.mark.parametrize(
    "url",
    [
        f"https://www.youtube.com/watch?v={VIDEO}",
        f"https://youtube.com/watch?feature=share&v={VIDEO}&t=42s",
        f"http://m.youtube.com/watch?v={VIDEO}",
        f"https://youtu.be/{VIDEO}?si=abc",
        f"https://www.youtube.com/live/{VIDEO}?feature=shared",
        f"https://www.youtube.com/embed/{VIDEO}",
        f"https://www.youtube-nocookie.com/embed/{VIDEO}?start=10",
        f"  https://WWW.YouTube.com/watch?v={VIDEO}  ",
    ],
)
def test_youtube_urls_become_the_nocookie_player(url: str) -> None:
    """Every usual form of a YouTube address embeds through youtube-nocookie.com."""
    embed = parse_stream_url(url)
    assert (embed.provider, embed.video_id, embed.src) == ("youtube", VIDEO, NOCOOKIE)


@pytest.mark.parametrize(
    ("url", "src"),
    [
        ("https://vimeo.com/76979871", "https://player.vimeo.com/video/76979871"),
        ("https://player.vimeo.com/video/76979871", "https://player.vimeo.com/video/76979871"),
        (
            "https://vimeo.com/channels/staffpicks/76979871",
            "https://player.vimeo.com/video/76979871",
        ),
        (
            "https://vimeo.com/76979871/a1b2c3d4e5",
            "https://player.vimeo.com/video/76979871?h=a1b2c3d4e5",
        ),
    ],
)
def test_vimeo_urls_become_the_vimeo_player(url: str, src: str) -> None:
    """Vimeo addresses embed as player.vimeo.com/video/ID (with an unlisted video's hash)."""
    embed = parse_stream_url(url)
    assert (embed.provider, embed.video_id, embed.src) == ("vimeo", "76979871", src)


def test_allowlisted_host_is_embedded_as_given() -> None:
    """A host in SALEN_EMBED_HOSTS embeds its https address unchanged."""
    url = "https://nett-tv.innlandet.example/live/fylkesting?id=7#player"
    hosts = "youtube.com, youtu.be,vimeo.com,nett-tv.innlandet.example"
    embed = parse_stream_url(url, hosts)
    assert (embed.provider, embed.src, embed.host) == ("other", url, "nett-tv.innlandet.example")
    assert embeds.allowed_hosts(hosts) == {"nett-tv.innlandet.example"}


def test_allowlisted_host_must_use_https() -> None:
    """The CSP frames allowlisted hosts over https only, so http is refused with that reason."""
    with pytest.raises(EmbedRefused) as refused:
        parse_stream_url("http://nett-tv.example/live", "nett-tv.example")
    assert refused.value.message == embeds.NOT_HTTPS


def test_other_host_is_refused_with_a_clear_message() -> None:
    """A host on no list is refused, and the message says what is allowed."""
    with pytest.raises(EmbedRefused) as refused:
        parse_stream_url("https://evil.example.com/player.html", "nett-tv.example")
    assert refused.value.status == 422
    assert "YouTube or Vimeo" in refused.value.message
    # a look-alike sub- or super-domain is not the allowed host
    assert stream_url_problem("https://youtube.com.evil.example/watch?v=" + VIDEO) is not None
    assert stream_url_problem("https://a.nett-tv.example/live", "nett-tv.example") is not None


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript://www.youtube.com/%0aalert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "//www.youtube.com/watch?v=" + VIDEO,
        "<iframe src='https://www.youtube.com/embed/" + VIDEO + "'></iframe>",
        "https://user:pw@www.youtube.com/watch?v=" + VIDEO,
        "https://www.youtube.com/watch?v=" + VIDEO + "\n<script>",
        "https://www.youtube.com/watch?v=short",
        "https://www.youtube.com/",
        "https://vimeo.com/about",
        "ftp://vimeo.com/123",
        "",
    ],
)
def test_scripts_html_and_non_videos_are_refused(url: str) -> None:
    """javascript:, data:, pasted HTML, credentials and addresses without a video are refused."""
    assert stream_url_problem(url) is not None


def test_event_document_with_a_bad_stream_url_names_the_field() -> None:
    """validate() refuses a document whose stream_url cannot be embedded, on that field."""
    occurrence = OccurrenceDoc(
        slug="oslo",
        city="Oslo",
        starts=dt.datetime(2030, 1, 1, 10),
        ends=dt.datetime(2030, 1, 1, 12),
    )
    bad = EventDoc(slug="x", title="X", occurrences=[occurrence], stream_url="javascript:alert(1)")
    with pytest.raises(Invalid) as refused:
        validate(bad)
    assert refused.value.fields == {"stream_url": embeds.NOT_A_URL}
    allowed = EventDoc(
        slug="x", title="X", occurrences=[occurrence], stream_url="https://tv.example/live"
    )
    validate(allowed, embed_hosts="tv.example")  # no error with the host allowed
    with pytest.raises(Invalid):
        validate(allowed)  # without settings only YouTube and Vimeo
