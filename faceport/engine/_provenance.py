"""The synthetic-media label lives in `faceport.provenance` (pure, no numpy), so that
results from external providers are labelled outside the engine too."""

from faceport.provenance import (
    TRAINED_ALGORITHMIC_MEDIA,
    embed_xmp,
    read_digital_source_type,
    synthetic_media_xmp,
)

__all__ = [
    "TRAINED_ALGORITHMIC_MEDIA",
    "embed_xmp",
    "read_digital_source_type",
    "synthetic_media_xmp",
]
