"""The language people read. Every string a person reads is marked with `_` (or `ngettext`
for a count) so that extraction finds it; the message id is English, with named
placeholders filled after translation: `_("{count} rows rejected").format(count=n)`.

Until the catalogs land (issue 14), `_` returns the English text as it is."""


def _(message: str) -> str:
    return message


def ngettext(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


def N_(message: str) -> str:
    """Marks a string for extraction without translating it: for module-level constants,
    which are translated with `_` where they are shown (the language is chosen at run time)."""
    return message
