"""Text -> Analysis: normalisation, segmentation, sentiment models, touchpoints, regions, risk and events."""
