"""Final templates: sub-templates whose words agree are one template, named by a content hash."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from streamapp.mining.ids import template_id
from streamapp.mining.refine import Template, Words

Member = tuple[int, Template]  # (unit id, split key)


class Group:
    """Sub-templates sharing a skeleton, and the one template that covers them all."""

    __slots__ = ("key", "members", "template", "text", "tid", "variants")

    def __init__(self, key: Template) -> None:
        self.key = key
        self.members: dict[Member, Template] = {}
        self.variants: Counter[Template] = Counter()
        self.template: Template = ()
        self.text = ""
        self.tid = ""


class Groups:
    """Which final template each sub-template of each unit belongs to."""

    def __init__(self) -> None:
        self.words = Words()
        self._by_skeleton: dict[Template, Group] = {}
        self._of: dict[Member, Group] = {}
        self._keys: dict[int, list[Template]] = {}

    def of(self, member: Member) -> Group | None:
        """The final template of a unit's sub-template."""
        return self._of.get(member)

    def place(self, uid: int, subs: Mapping[Template, Template]) -> list[tuple[str, str]]:
        """Replace all sub-templates of a unit by `subs` (split key -> template; empty: the unit is
        gone); returns (old id, new id) of every final template whose text changed."""
        touched: dict[int, tuple[Group, str]] = {}
        for key in self._keys.pop(uid, ()):
            self._take((uid, key), touched)
        for key, template in subs.items():
            self._put((uid, key), template, touched)
        if subs:
            self._keys[uid] = list(subs)
        return self._settle(touched)

    def place_one(self, member: Member, template: Template) -> list[tuple[str, str]]:
        """Put (or move) one sub-template of a unit; returns the text changes like `place`."""
        touched: dict[int, tuple[Group, str]] = {}
        if self._of.get(member) is None:
            self._keys.setdefault(member[0], []).append(member[1])
        else:
            self._take(member, touched)
        self._put(member, template, touched)
        return self._settle(touched)

    def _take(self, member: Member, touched: dict[int, tuple[Group, str]]) -> None:
        g = self._of.pop(member, None)
        if g is None:
            return
        template = g.members.pop(member)
        g.variants[template] -= 1
        if not g.variants[template]:
            del g.variants[template]
        touched.setdefault(id(g), (g, g.tid))

    def _put(self, member: Member, template: Template, touched: dict[int, tuple[Group, str]]) -> None:
        skeleton = self.words.skeleton(template)
        # Without a single word, nothing tells two templates apart but their exact text.
        gkey = skeleton if skeleton else ("\0", *template)
        g = self._by_skeleton.get(gkey)
        if g is None:
            g = self._by_skeleton[gkey] = Group(gkey)
        g.members[member] = template
        g.variants[template] += 1
        self._of[member] = g
        touched.setdefault(id(g), (g, g.tid))

    def _settle(self, touched: dict[int, tuple[Group, str]]) -> list[tuple[str, str]]:
        changes = []
        for g, old in touched.values():
            if not g.members:
                del self._by_skeleton[g.key]
                continue
            # Sorted, so the template does not depend on the order lines arrived in.
            template = self.words.align(sorted(g.variants))
            if template != g.template:
                g.template = template
                g.text = " ".join(template)
                g.tid = template_id(g.text)
                if old:
                    changes.append((old, g.tid))
        return changes
