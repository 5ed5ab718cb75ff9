"""Slugs (lowercase letters, digits and dashes) made from folder names and titles."""
from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 60


def slugify(text: str, max_length: int = MAX_LENGTH) -> str:
    """'Step 2: Pods & Services' -> 'step-2-pods-services'; '' when nothing usable is left."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug[:max_length]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else cut
    return slug.strip("-")


def unique(slug: str, taken: set[str]) -> str:
    """slug, or slug-2, slug-3, ... whichever is not taken yet; the result is added to taken."""
    candidate, n = slug, 2
    while candidate in taken:
        candidate = f"{slug}-{n}"
        n += 1
    taken.add(candidate)
    return candidate
