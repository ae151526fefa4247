"""Given-name variants: nicknames and spellings that name the same person.

Linkage compares a canonical form of each first name as well as the name itself, so that
``Alfie`` and ``Alfred`` (or ``Isobel`` and ``Isabel``) count as agreeing on the first
name while ``Oliver`` and ``Olivia`` (twins, say) do not. The table is deliberately small
and conservative: each group holds names that English registers and health records use
for one person. Names not in the table are their own canonical form.
"""

from __future__ import annotations

__all__ = ["NICKNAME_GROUPS", "canonical_first_name"]

# canonical (normalised, a-z only) -> the variants that mean the same given name
NICKNAME_GROUPS: dict[str, tuple[str, ...]] = {
    "alexander": ("alex", "alexandre", "xander", "sandy"),
    "alexandra": ("alexa", "lexi", "lexie"),
    "alfred": ("alfie", "alf", "fred"),
    "archibald": ("archie",),
    "benjamin": ("ben", "benji", "benny"),
    "charles": ("charlie", "chas"),
    "charlotte": ("lottie", "charly"),
    "christopher": ("chris", "kit"),
    "daniel": ("dan", "danny"),
    "edward": ("ed", "eddie", "ted", "teddy", "ned"),
    "eleanor": ("ellie", "elinor", "nell", "nellie", "elenor"),
    "elizabeth": ("beth", "lizzie", "liz", "eliza", "libby", "betsy"),
    "emily": ("emilie", "em", "emmie"),
    "frederick": ("freddie", "freddy", "frederic"),
    "harriet": ("hattie", "harriett"),
    "henry": ("harry", "hal", "hank"),
    "isabel": ("isobel", "isabelle", "isabella", "izzy", "bella", "issy"),
    "jacob": ("jake", "jakob"),
    "james": ("jamie", "jim", "jimmy"),
    "jessica": ("jess", "jessie"),
    "jonathan": ("jon", "jonny", "johnny"),
    "joseph": ("joe", "joey"),
    "josephine": ("josie", "jo"),
    "joshua": ("josh",),
    "katherine": ("catherine", "kathryn", "kate", "katie", "kat", "cathy", "katy"),
    "margaret": ("maggie", "meg", "peggy"),
    "matilda": ("tilly", "tillie", "mattie"),
    "matthew": ("matt", "matty"),
    "maximilian": ("max", "maxwell"),
    "mohammed": ("muhammad", "mohammad", "muhammed", "mohamed", "mo"),
    "nathaniel": ("nathan", "nate", "nat"),
    "nicholas": ("nick", "nicky", "nico"),
    "oliver": ("ollie", "olly"),
    "olivia": ("liv", "livvy", "livia"),
    "penelope": ("penny", "poppy"),
    "rebecca": ("becky", "becca", "rebekah"),
    "samuel": ("sam", "sammy"),
    "sebastian": ("seb", "bastian"),
    "sophie": ("sofie", "sophia", "sofia"),
    "theodore": ("theo", "teddie"),
    "thomas": ("tom", "tommy"),
    "victoria": ("vicky", "tori"),
    "william": ("will", "bill", "billy", "liam", "willie"),
    "zachary": ("zach", "zack", "zac"),
    "abigail": ("abbie", "abby", "gail"),
    "amelia": ("millie", "amy"),
    "florence": ("flo", "florrie"),
    "samantha": ("sammie",),
}

_CANONICAL: dict[str, str] = {}
for _canon, _variants in NICKNAME_GROUPS.items():
    _CANONICAL[_canon] = _canon
    for _v in _variants:
        _CANONICAL.setdefault(_v, _canon)


def canonical_first_name(name: str) -> str:
    """The canonical form of a normalised first name (the name itself if unknown).

    >>> canonical_first_name("alfie"), canonical_first_name("isobel"), canonical_first_name("zara")
    ('alfred', 'isabel', 'zara')
    """
    return _CANONICAL.get(name, name)
