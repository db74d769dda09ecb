"""Group work: breakout rooms by theme, with timer, video, shared input and return to plenary."""
