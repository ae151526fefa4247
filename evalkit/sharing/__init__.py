"""Sharing personal data safely: pseudonymise, link and minimise before records leave.

- :func:`pseudonymise`: keyed HMAC-SHA256 pseudonyms after normalising NHS numbers
  (Modulus 11 checked), names and dates of birth; the key comes from :func:`load_key`.
- :func:`load_dictionary`: the data dictionary (each column's role and generalisation).
- :func:`link`: deterministic NHS-number pass, then Splink's Fellegi-Sunter linkage, with
  twins never merged and a clerical-review loop.
- :func:`check_k_anonymity`: k-anonymity and l-diversity of an extract.
- :func:`share`: the whole chain behind ``evalkit share``, writing a pack atomically.

See ``docs/sharing.md``. Splink and DuckDB are imported only when :func:`link` runs.
"""

from __future__ import annotations

from .dictionary import DataDictionary, load_dictionary
from .keys import KEY_ENV, Key, generate_key, hmac_sha256, load_key
from .link import LinkQuality, LinkResult, evaluate_links, link, read_decisions
from .minimise import AnonymityCheck, check_k_anonymity, ethnic_group, read_postcode_lookup
from .normalise import nhs_number_is_valid
from .pack import SharePack, share
from .pseudonymise import pseudonymise

__all__ = [
    "pseudonymise",
    "load_key",
    "generate_key",
    "Key",
    "KEY_ENV",
    "hmac_sha256",
    "nhs_number_is_valid",
    "load_dictionary",
    "DataDictionary",
    "link",
    "LinkResult",
    "LinkQuality",
    "evaluate_links",
    "read_decisions",
    "check_k_anonymity",
    "AnonymityCheck",
    "ethnic_group",
    "read_postcode_lookup",
    "share",
    "SharePack",
]
