"""faceport: a face-swap API."""
