"""YAML loading for course files: it remembers the line of each mapping and key, so a problem can
point an author at the exact line, and it bounds the work a hostile file can cause."""
from __future__ import annotations

import yaml

# A course file is a few hundred values (the largest lesson today has about 250). Aliases
# (`*name`) let a few lines stand for an exponential number of values (a "billion laughs"), and
# nesting makes every walker recurse, so documents are measured as if every alias were written
# out, and refused past these limits, long before either costs anything.
MAX_VALUES = 20_000
MAX_TEXT = 1_000_000  # characters of all scalars together
MAX_DEPTH = 64  # levels of nesting


class LineDict(dict):
    """A dict built from YAML that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    line: int = 0
    item_lines: list

    def line_of_item(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class YamlError(Exception):
    """A YAML document that does not parse, or is refused, with the 1-based line to look at.
    `problem` is the parser's complaint alone; `message` says it in a sentence."""

    def __init__(self, message: str, line: int, problem: str = ""):
        super().__init__(message)
        self.message = message
        self.line = line
        self.problem = problem or message


class _TooBig(Exception):
    def __init__(self, message: str, mark):
        super().__init__(message)
        self.message = message
        self.mark = mark


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that stops composing past MAX_DEPTH levels (PyYAML's composer recurses once a
    level, so a deep enough document would end in a RecursionError with no line)."""

    _depth = 0

    def compose_node(self, parent, index):
        if self._depth >= MAX_DEPTH:
            raise _TooBig(f"nested too deeply (more than {MAX_DEPTH} levels)",
                          self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _LineLoader(_BoundedLoader):
    line_offset = 0


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1 + loader.line_offset
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from None
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1 + loader.line_offset
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1 + loader.line_offset
    result.item_lines = [child.start_mark.line + 1 + loader.line_offset for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _measure(root: yaml.Node) -> None:
    """Raise _TooBig if the document, with every alias written out, would exceed the limits.
    Each node is measured once (an alias reuses its anchor's node), so this costs as much as
    the text itself, however far the aliases would expand."""
    sizes: dict[int, tuple[int, int, int]] = {}  # id(node) -> (values, characters, depth)
    inside: set[int] = set()

    def measure(node: yaml.Node) -> tuple[int, int, int]:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if id(node) in inside:
            raise _TooBig("an alias refers to the value it is inside", node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            size = (1, len(node.value), 1)
        else:
            inside.add(id(node))
            children = (node.value if isinstance(node, yaml.SequenceNode)
                        else [part for pair in node.value for part in pair])
            values, chars, depth = 1, 0, 1
            for child in children:
                child_values, child_chars, child_depth = measure(child)
                values, chars = values + child_values, chars + child_chars
                depth = max(depth, child_depth + 1)
            inside.discard(id(node))
            size = (values, chars, depth)
        if size[0] > MAX_VALUES:
            raise _TooBig(f"too big once its aliases (*name) are expanded: more than "
                          f"{MAX_VALUES} values", node.start_mark)
        if size[1] > MAX_TEXT:
            raise _TooBig(f"too big once its aliases (*name) are expanded: more than "
                          f"{MAX_TEXT} characters", node.start_mark)
        if size[2] > MAX_DEPTH:
            raise _TooBig(f"nested too deeply once its aliases (*name) are expanded (more "
                          f"than {MAX_DEPTH} levels)", node.start_mark)
        sizes[id(node)] = size
        return size

    measure(root)


def _documents(loader: _BoundedLoader):
    while loader.check_node():
        node = loader.get_node()
        _measure(node)
        yield loader.construct_document(node)


def _parse(loader_class, text: str, first_line: int, single: bool):
    loader = loader_class(text)
    loader.line_offset = first_line - 1
    try:
        if single:
            node = loader.get_single_node()
            if node is None:
                return None
            _measure(node)
            return loader.construct_document(node)
        return list(_documents(loader))
    except _TooBig as exc:
        raise YamlError(exc.message, exc.mark.line + first_line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line if mark else 0) + first_line
        problem = exc.problem or str(exc)
        detail = f"{problem} ({exc.context})" if exc.context else problem
        raise YamlError(f"not valid YAML: {detail}", line, problem) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"not valid YAML: {exc}", first_line, str(exc)) from None
    finally:
        loader.dispose()


def load(text: str, first_line: int = 1):
    """Parse one YAML document into LineDicts and LineLists. Lines are numbered as if the text
    started at first_line. Raises YamlError for a broken or refused document."""
    return _parse(_LineLoader, text, first_line, single=True)


def check_documents(text: str, first_line: int = 1) -> None:
    """Raise YamlError if any document in text (a lesson's YAML code block, say) does not parse
    or is refused by the same limits as load()."""
    _parse(_BoundedLoader, text, first_line, single=False)
