"""crowd-cast compatible desktop recorder: screen video plus keyboard and mouse keylog."""
