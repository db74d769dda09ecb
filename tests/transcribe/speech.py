"""Speech for transcription tests: espeak-ng's Klatt voice (which PocketSphinx's US English
model recognises roughly), written as WAV."""

from __future__ import annotations

import subprocess
from pathlib import Path

SENTENCE = ("the president said on tuesday that the government will increase the budget "
            "for schools and hospitals next year")
KNOWN = {"president", "tuesday", "government", "hospitals"}


def speak(path: Path, text: str = SENTENCE, repeat: int = 1) -> Path:
    """`text` (said `repeat` times, a pause between) as a WAV file at `path`."""
    said = " . . . ".join([text] * repeat)
    subprocess.run(["espeak-ng", "-v", "en-us+klatt", "-s", "130", "-w", str(path), said],
                   check=True, capture_output=True)
    return path


def speech_video(folder: Path, repeat: int = 1) -> Path:
    """An H.264 test picture with the spoken SENTENCE as AAC audio, in MPEG-TS."""
    import av

    from stream.package.synth import make_test_video

    wav = speak(folder / "speech.wav", repeat=repeat)
    with av.open(str(wav)) as probe:
        seconds = float(probe.duration or 0) / 1_000_000 + 1
    silent = make_test_video(folder / "silent.ts", seconds, audio_codec=None)
    out_path = folder / "speech.ts"
    with av.open(str(silent)) as pictures, av.open(str(wav)) as sound, \
            av.open(str(out_path), "w", format="mpegts") as out:
        video_in = pictures.streams.video[0]
        video_out = out.add_stream_from_template(video_in)
        audio_out = out.add_stream("aac", rate=48000, layout="mono")
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=48000)
        sound_packets = []
        samples = 0
        for frame in sound.decode(audio=0):
            for fixed in resampler.resample(frame):
                fixed.pts, samples = samples, samples + fixed.samples
                sound_packets += audio_out.encode(fixed)
        sound_packets += audio_out.encode(None)
        pending = iter(sound_packets)
        waiting = next(pending, None)
        for packet in pictures.demux(video_in):
            if packet.dts is None:
                continue
            at = float(packet.pts * video_in.time_base)  # interleaved by time, as a recorder does
            while waiting is not None and waiting.pts / 48000 <= at:
                out.mux(waiting)
                waiting = next(pending, None)
            packet.stream = video_out
            out.mux(packet)
        while waiting is not None:
            out.mux(waiting)
            waiting = next(pending, None)
    return out_path
