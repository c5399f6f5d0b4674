"""Dense depth: the point source (LiDAR, depth map, fusion), depth alignment, Depth Anything 3 model and generation."""
