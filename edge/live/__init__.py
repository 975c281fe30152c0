"""Live view at the edge (issue #15 item 3): each camera published over WebRTC, encoded once per
camera and profile and fanned out to every viewer (edge.live.publisher)."""
