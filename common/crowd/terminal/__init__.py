"""Terminal capture: emulated screens sampled at 10 Hz, a PTY recorder, shell integration.

See docs/terminal.md. ``TerminalModel`` keeps one terminal's screen exact at any output
rate; ``ScreenSampler`` turns models into ``terminal_screen`` observations; ``crowd term``
(``crowd.terminal.recorder``) records any program in a PTY.
"""
