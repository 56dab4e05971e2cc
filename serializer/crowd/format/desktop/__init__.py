"""The desktop recording format (crowd-cast compatible): segment file names and the msgpack keylog.

It sits beside the editor format (``crowd.format``) because every reader of desktop data
(the recorder, the overlay, the IDM's prepare and label steps, the upload scanner) needs the
same bytes and names, and none of them should have to import the recorder to get them.
"""
