"""The sidecar's terminal part: the component that feeds ``crowd.terminal``'s hub from editor
and ``crowd term`` events, and the demo's terminal steps."""
