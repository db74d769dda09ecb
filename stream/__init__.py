"""Live media: WHIP ingest, WHEP relay without re-encoding, live HLS, recording and packaging."""
