"""Dense depth: the point source (LiDAR, depth map, or both combined), depth alignment, Depth Anything 3 model and
generation."""
