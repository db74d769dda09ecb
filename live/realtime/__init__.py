"""The live socket: connection, dispatch and limits; fan-out in ticks; keepalive and beat."""
