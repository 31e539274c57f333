"""Pictures: pose axes, landmarks and boxes drawn on images, and sample grids."""
