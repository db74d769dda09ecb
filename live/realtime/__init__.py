"""The real-time core: the live socket (connection, dispatch, limits), the envelope and hub
channel names every feature shares, fan-out in ticks, keepalive and beat. Nothing here
imports a feature; features register their message types (`connection.Feature`)."""
