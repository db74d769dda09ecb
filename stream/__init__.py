"""The media library: WHIP ingest, WHEP relay without re-encoding, live HLS and recording.

Offline packaging of recordings (MP4, VOD HLS, captions) is the `stream.package` package.
"""
