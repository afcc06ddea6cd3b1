"""A griffe extension for the API reference (mkdocs.yml): the docstrings' Sphinx roles as links.

The library's docstrings name other objects the Sphinx way, ``:class:`~gans.config.GANConfig```,
``:func:`train```, ``:meth:`draw```. mkdocstrings renders Markdown and would print those roles
as they are. This extension rewrites each into a cross-reference that mkdocs-autorefs turns into a
link to the object's entry, with the role's text in code (``~`` keeps the last part of the name, as
Sphinx does). A name without a package is resolved in the scope of the docstring's object (its
class, then its module, then their imports), so ``:meth:`draw``` in a step's docstring links to that
step's ``draw``. The reference is optional: a name the site does not document (a command handler,
a private helper) stays as code with no link and no warning, so the strict build fails only on
what the pages themselves reference.
"""

from __future__ import annotations

import html
import re

import griffe

# :role:`name`, :role:`~name`, :role:`name()` and :role:`title <name>`.
ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj):"
                  r"`(?:(?P<title>[^`<]+?)\s*<(?P<named>[\w.]+)>|(?P<short>~?)(?P<name>[\w.]+)(?:\(\))?)`")


def _target(obj: griffe.Object, name: str) -> str:
    """The full path ``name`` stands for in the scope of ``obj`` (``name`` itself when unresolved)."""
    head, _, rest = name.partition(".")
    for scope in (obj, obj.parent):
        if scope is None:
            continue
        try:
            resolved = scope.resolve(head)
        except (griffe.NameResolutionError, AttributeError, KeyError):
            continue
        return f"{resolved}.{rest}" if rest else resolved
    return name


def rewrite(obj: griffe.Object, text: str) -> str:
    """``text`` with every Sphinx role turned into an optional autorefs cross-reference."""

    def link(match: re.Match) -> str:
        if match.group("named"):
            title, name = match.group("title"), match.group("named")
        else:
            name = match.group("name")
            title = name.rsplit(".", 1)[-1] if match.group("short") else name
        target = _target(obj, name)
        return (f'<autoref identifier="{html.escape(target, quote=True)}" optional>'
                f"<code>{html.escape(title)}</code></autoref>")

    return ROLE.sub(link, text)


class SphinxRoles(griffe.Extension):
    """Rewrite the roles of every docstring of a package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        todo: list[griffe.Object] = [pkg]
        while todo:
            obj = todo.pop()
            if obj.docstring is not None:
                obj.docstring.value = rewrite(obj, obj.docstring.value)
            todo.extend(member for member in obj.members.values() if not member.is_alias)
