"""Replaying recordings: a state machine over events, a terminal UI, an HTML player and a live follower."""
