"""The sidecar's upload part: the component that hands finished recordings to
``crowd.transfer``'s queue."""
