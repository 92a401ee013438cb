"""Builders for what members see: messages (blocks, buttons, menus, member
pickers), forms and their inputs, and the reply a handler gives.

They mirror the Rust SDK's builders and produce the WIT `blocks` records.
Payloads and form state are JSON: pass any JSON-able Python value.
"""

import json as _json
from typing import Any, Iterable, List, Optional, Tuple

from ._wit import blocks as _b, handler as _h
from .errors import Invalid

__all__ = [
    "Message", "Button", "Select", "MemberPicker", "Form", "Input", "Reply",
    "ActionAnswer", "to_json", "MAX_BLOCKS", "MAX_FIELDS", "MAX_ELEMENTS",
    "MAX_OPTIONS", "MAX_INPUTS", "MAX_TEXT_CHARS", "MAX_LABEL_CHARS",
    "MAX_PAYLOAD_BYTES", "MAX_MESSAGE_TEXT_CHARS", "MAX_FILES_PER_INPUT",
]

# The host's limits (blocks.wit); the host refuses a message over one with
# `invalid` naming it, and so does qun.testing.
MAX_BLOCKS = 50
MAX_FIELDS = 10
MAX_ELEMENTS = 5
MAX_OPTIONS = 100
MAX_INPUTS = 20
MAX_TEXT_CHARS = 3000
MAX_LABEL_CHARS = 150
MAX_PAYLOAD_BYTES = 8 << 10
MAX_MESSAGE_TEXT_CHARS = 4000
MAX_FILES_PER_INPUT = 10


def to_json(value: Any) -> str:
    """`value` as compact JSON (`invalid` when it is not JSON-able)."""
    try:
        return _json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as err:
        raise Invalid(f"not JSON: {err}") from None


_STYLES = {"default": _b.ButtonStyle.DEFAULT, "primary": _b.ButtonStyle.PRIMARY, "danger": _b.ButtonStyle.DANGER}


class Button:
    """A button: clicking it runs the app's `on_action(ctx, call)` with
    `call.name == action` and the payload (`call.json()`)."""

    def __init__(self, label: str, action: str, payload: Any = None, style: str = "default"):
        self._b = _b.Button(label, action, "", _STYLES["default"], None)
        if payload is not None:
            self.payload(payload)
        self.style(style)

    def payload(self, value: Any) -> "Button":
        """The JSON handed to `on_action` (at most 8 KiB)."""
        self._b.payload = to_json(value)
        return self

    def style(self, style: str) -> "Button":
        """"default", "primary" or "danger"."""
        if style not in _STYLES:
            raise Invalid(f"button style must be one of {sorted(_STYLES)}, not {style!r}")
        self._b.style = _STYLES[style]
        return self

    def primary(self) -> "Button":
        return self.style("primary")

    def danger(self) -> "Button":
        return self.style("danger")

    def confirm(self, title: str, text: str, confirm_label: str = "Yes", deny_label: str = "Cancel") -> "Button":
        """Ask "are you sure?" before the action runs."""
        self._b.confirm = _b.Confirm(title, text, confirm_label, deny_label)
        return self

    def to_wit(self):
        return _b.Element_Button(self._b)


class Select:
    """A menu of options; choosing one runs `on_action` with `call.value`."""

    def __init__(self, action: str, placeholder: str, options: Iterable[Tuple[str, str]] = (), payload: Any = None):
        self._s = _b.SelectMenu(action, "", placeholder, [_b.Choice(v, l) for v, l in options])
        if payload is not None:
            self.payload(payload)

    def option(self, value: str, label: str) -> "Select":
        self._s.options.append(_b.Choice(value, label))
        return self

    def payload(self, value: Any) -> "Select":
        self._s.payload = to_json(value)
        return self

    def to_wit(self):
        return _b.Element_Select(self._s)


class MemberPicker:
    """A picker of members of the group; picking one runs `on_action` with
    `call.value` (the member's id)."""

    def __init__(self, action: str, placeholder: str, payload: Any = None):
        self._p = _b.MemberPicker(action, "", placeholder)
        if payload is not None:
            self.payload(payload)

    def payload(self, value: Any) -> "MemberPicker":
        self._p.payload = to_json(value)
        return self

    def to_wit(self):
        return _b.Element_MemberPicker(self._p)


def _element(e):
    if hasattr(e, "to_wit"):
        return e.to_wit()
    if isinstance(e, (_b.Element_Button, _b.Element_Select, _b.Element_MemberPicker)):
        return e
    raise TypeError(f"not an element (Button, Select, MemberPicker): {e!r}")


class Message:
    """A message: `text` (what notifications show) and blocks, in order."""

    def __init__(self, text: str = ""):
        self.text = text
        self.blocks: List[Any] = []

    # building
    def header(self, text: str) -> "Message":
        self.blocks.append(_b.Block_Header(text))
        return self

    def paragraph(self, text: str) -> "Message":
        """A paragraph with light markup (`*bold*`, `_italic_`, `` `code` ``, links)."""
        self.blocks.append(_b.Block_Text(text))
        return self

    # `text` is the message's fallback text attribute; `.body()` and
    # `.paragraph()` add a text block.
    body = paragraph

    def fields(self, pairs: Iterable[Tuple[str, str]]) -> "Message":
        self.blocks.append(_b.Block_Fields([_b.Field(str(n), str(v)) for n, v in pairs]))
        return self

    def field(self, name: str, value: str) -> "Message":
        """One more labelled value (joins the last `fields` block)."""
        if self.blocks and isinstance(self.blocks[-1], _b.Block_Fields):
            self.blocks[-1].value.append(_b.Field(str(name), str(value)))
            return self
        return self.fields([(name, value)])

    def divider(self) -> "Message":
        self.blocks.append(_b.Block_Divider())
        return self

    def context(self, text: str) -> "Message":
        self.blocks.append(_b.Block_Context(text))
        return self

    def actions(self, elements: Iterable[Any]) -> "Message":
        """A row of buttons, menus and member pickers (at most 5)."""
        self.blocks.append(_b.Block_Actions([_element(e) for e in elements]))
        return self

    def button(self, button: Button) -> "Message":
        """One more button (joins the last `actions` row)."""
        if self.blocks and isinstance(self.blocks[-1], _b.Block_Actions):
            self.blocks[-1].value.append(_element(button))
            return self
        return self.actions([button])

    def image(self, file_id: str, alt: str) -> "Message":
        self.blocks.append(_b.Block_Image(_b.Image(file_id, alt)))
        return self

    def file(self, file_id: str) -> "Message":
        self.blocks.append(_b.Block_File(file_id))
        return self

    def to_wit(self):
        return _b.Message(self.text, list(self.blocks))

    @classmethod
    def from_wit(cls, message) -> "Message":
        m = cls(message.text)
        m.blocks = list(message.blocks)
        return m

    # reading (handy in tests)
    def title(self) -> Optional[str]:
        """The first header's text."""
        return next((b.value for b in self.blocks if isinstance(b, _b.Block_Header)), None)

    def paragraphs(self) -> List[str]:
        return [b.value for b in self.blocks if isinstance(b, _b.Block_Text)]

    def contexts(self) -> List[str]:
        return [b.value for b in self.blocks if isinstance(b, _b.Block_Context)]

    def all_fields(self) -> List[Tuple[str, str]]:
        return [(f.name, f.value) for b in self.blocks if isinstance(b, _b.Block_Fields) for f in b.value]

    def get_field(self, name: str) -> Optional[str]:
        return next((v for n, v in self.all_fields() if n == name), None)

    def buttons(self) -> List[Any]:
        """The buttons (WIT `button` records: label, action, payload, style, confirm)."""
        return [e.value for b in self.blocks if isinstance(b, _b.Block_Actions)
                for e in b.value if isinstance(e, _b.Element_Button)]

    def get_button(self, label: str):
        return next((b for b in self.buttons() if b.label == label), None)

    def files(self) -> List[str]:
        return [b.value for b in self.blocks if isinstance(b, _b.Block_File)] + [
            b.value.file for b in self.blocks if isinstance(b, _b.Block_Image)]

    def rendered(self) -> str:
        """The message as plain text lines (for asserts and debugging)."""
        lines = []
        for b in self.blocks:
            if isinstance(b, (_b.Block_Header, _b.Block_Text, _b.Block_Context)):
                lines.append(b.value)
            elif isinstance(b, _b.Block_Fields):
                lines.extend(f"{f.name}: {f.value}" for f in b.value)
            elif isinstance(b, _b.Block_Divider):
                lines.append("---")
            elif isinstance(b, _b.Block_Actions):
                lines.append(" ".join(f"[{getattr(e.value, 'label', None) or e.value.placeholder}]" for e in b.value))
            elif isinstance(b, _b.Block_File):
                lines.append(f"(file {b.value})")
            elif isinstance(b, _b.Block_Image):
                lines.append(f"(image {b.value.file}: {b.value.alt})")
        return "\n".join(lines) if lines else self.text

    def __repr__(self):
        return f"Message({self.text!r}, {len(self.blocks)} blocks)"


class Input:
    """One input of a form (or an option of a typed command). Build one with
    `Input.text`, `.integer`, `.decimal`, `.date`, `.date_time`, `.choice`,
    `.multi_choice`, `.member`, `.checkbox` or `.file`; then `.required()`,
    `.hint(...)` and the kind's own settings."""

    def __init__(self, id: str, label: str, kind):
        self._i = _b.Input(id, label, None, False, kind)

    @classmethod
    def text(cls, id: str, label: str) -> "Input":
        return cls(id, label, _b.InputKind_Text(_b.TextInput(None, None, False, None, None)))

    @classmethod
    def integer(cls, id: str, label: str) -> "Input":
        return cls(id, label, _b.InputKind_Number(_b.NumberInput(True, 0, None, None, None)))

    @classmethod
    def decimal(cls, id: str, label: str, decimals: int) -> "Input":
        return cls(id, label, _b.InputKind_Number(_b.NumberInput(False, decimals, None, None, None)))

    @classmethod
    def date(cls, id: str, label: str) -> "Input":
        return cls(id, label, _b.InputKind_Date(_b.DateInput(None, None, None)))

    @classmethod
    def date_time(cls, id: str, label: str) -> "Input":
        return cls(id, label, _b.InputKind_DateTime(_b.DateTimeInput(None, None, None)))

    @classmethod
    def choice(cls, id: str, label: str, options: Iterable[Tuple[str, str]]) -> "Input":
        return cls(id, label, _b.InputKind_Choice(_b.ChoiceInput([_b.Choice(v, l) for v, l in options], False, [])))

    @classmethod
    def multi_choice(cls, id: str, label: str, options: Iterable[Tuple[str, str]]) -> "Input":
        return cls(id, label, _b.InputKind_Choice(_b.ChoiceInput([_b.Choice(v, l) for v, l in options], True, [])))

    @classmethod
    def member(cls, id: str, label: str) -> "Input":
        return cls(id, label, _b.InputKind_Member(_b.MemberInput(None)))

    @classmethod
    def checkbox(cls, id: str, label: str) -> "Input":
        return cls(id, label, _b.InputKind_Checkbox(_b.CheckboxInput(False)))

    @classmethod
    def file(cls, id: str, label: str) -> "Input":
        return cls(id, label, _b.InputKind_File(_b.FileInput(1, [])))

    def required(self, required: bool = True) -> "Input":
        self._i.required = required
        return self

    def hint(self, hint: str) -> "Input":
        self._i.hint = hint
        return self

    def _kind(self, *kinds):
        k = self._i.kind
        if not isinstance(k, kinds):
            raise Invalid(f"input `{self._i.id}`: this setting does not apply to its kind")
        return k.value

    def multiline(self) -> "Input":
        self._kind(_b.InputKind_Text).multiline = True
        return self

    def min_length(self, n: int) -> "Input":
        self._kind(_b.InputKind_Text).min_length = n
        return self

    def max_length(self, n: int) -> "Input":
        self._kind(_b.InputKind_Text).max_length = n
        return self

    def placeholder(self, text: str) -> "Input":
        self._kind(_b.InputKind_Text).placeholder = text
        return self

    def min(self, value) -> "Input":
        self._kind(_b.InputKind_Number).min = str(value)
        return self

    def max(self, value) -> "Input":
        self._kind(_b.InputKind_Number).max = str(value)
        return self

    def range(self, low, high) -> "Input":
        return self.min(low).max(high)

    def initial(self, value) -> "Input":
        k = self._i.kind
        if isinstance(k, _b.InputKind_Text):
            k.value.initial = str(value)
        elif isinstance(k, _b.InputKind_Number):
            k.value.initial = str(value)
        elif isinstance(k, _b.InputKind_Checkbox):
            k.value.initial = bool(value)
        elif isinstance(k, _b.InputKind_Member):
            k.value.initial = str(value)
        elif isinstance(k, _b.InputKind_Choice):
            k.value.initial = [value] if isinstance(value, str) else list(value)
        elif isinstance(k, _b.InputKind_DateTime):
            k.value.initial = int(value)
        else:
            raise Invalid(f"input `{self._i.id}`: initial is not supported for this kind here")
        return self

    def max_files(self, n: int) -> "Input":
        self._kind(_b.InputKind_File).max_files = n
        return self

    def accept(self, types: Iterable[str]) -> "Input":
        self._kind(_b.InputKind_File).accept = list(types)
        return self

    def to_wit(self):
        return self._i


class Form:
    """A form opened for the acting member; submitting it runs `on_submit`
    with `submission.callback == callback` and the checked values."""

    def __init__(self, title: str, callback: str):
        self._f = _b.Form(title, [], "Submit", callback, "")

    def paragraph(self, text: str) -> "Form":
        self._f.blocks.append(_b.Block_Text(text))
        return self

    text = paragraph

    def fields(self, pairs: Iterable[Tuple[str, str]]) -> "Form":
        self._f.blocks.append(_b.Block_Fields([_b.Field(str(n), str(v)) for n, v in pairs]))
        return self

    def context(self, text: str) -> "Form":
        self._f.blocks.append(_b.Block_Context(text))
        return self

    def input(self, input: Input) -> "Form":
        self._f.blocks.append(_b.Block_Input(input.to_wit()))
        return self

    def submit_label(self, label: str) -> "Form":
        self._f.submit_label = label
        return self

    def state(self, value: Any) -> "Form":
        """JSON handed back unchanged on submit (at most 8 KiB)."""
        self._f.state = to_json(value)
        return self

    def inputs(self):
        return [b.value for b in self._f.blocks if isinstance(b, _b.Block_Input)]

    def to_wit(self):
        return self._f

    @classmethod
    def from_wit(cls, form) -> "Form":
        f = cls.__new__(cls)
        f._f = form
        return f

    @property
    def title(self) -> str:
        return self._f.title

    @property
    def callback(self) -> str:
        return self._f.callback


class Reply:
    """What the member who acted sees: `Reply.none()`, `Reply.post(message)`
    (posted to the group; no `messaging` needed), `Reply.private(message)`
    (only they see it), `Reply.form(form)`, `Reply.field_errors(...)` (after a
    submission). A handler may also return a `str` (posted as text), a
    `Message` (posted), a `Form` (opened) or None (nothing)."""

    def __init__(self, response):
        self.response = response

    @classmethod
    def none(cls) -> "Reply":
        return cls(_b.Response_None_())

    @classmethod
    def post(cls, message) -> "Reply":
        return cls(_b.Response_Post(_message(message)))

    @classmethod
    def text(cls, text: str) -> "Reply":
        return cls.post(Message(text))

    @classmethod
    def private(cls, message) -> "Reply":
        return cls(_b.Response_Private(_message(message)))

    @classmethod
    def form(cls, form: Form) -> "Reply":
        return cls(_b.Response_Form(form.to_wit()))

    @classmethod
    def field_error(cls, input: str, message: str) -> "Reply":
        return cls.field_errors([(input, message)])

    @classmethod
    def field_errors(cls, errors: Iterable[Tuple[str, str]]) -> "Reply":
        return cls(_b.Response_FieldErrors([_b.FieldError(i, m) for i, m in errors]))

    @classmethod
    def of(cls, value) -> "Reply":
        """A handler's return value as a Reply."""
        if value is None:
            return cls.none()
        if isinstance(value, Reply):
            return value
        if isinstance(value, str):
            return cls.text(value)
        if isinstance(value, Message):
            return cls.post(value)
        if isinstance(value, Form):
            return cls.form(value)
        raise TypeError(
            f"a handler returned {type(value).__name__}; return a Reply, Message, Form, str or None"
        )

    # reading (tests)
    @property
    def kind(self) -> str:
        return {
            _b.Response_None_: "none", _b.Response_Post: "post", _b.Response_Private: "private",
            _b.Response_Form: "form", _b.Response_FieldErrors: "field-errors",
        }[type(self.response)]

    def message(self) -> Optional[Message]:
        if isinstance(self.response, (_b.Response_Post, _b.Response_Private)):
            return Message.from_wit(self.response.value)
        return None

    def get_form(self) -> Optional[Form]:
        if isinstance(self.response, _b.Response_Form):
            return Form.from_wit(self.response.value)
        return None

    def errors(self) -> List[Tuple[str, str]]:
        if isinstance(self.response, _b.Response_FieldErrors):
            return [(e.input, e.message) for e in self.response.value]
        return []

    def __repr__(self):
        return f"Reply.{self.kind}({self.message() or self.get_form() or self.errors() or ''})"


def _message(message):
    if isinstance(message, str):
        return Message(message).to_wit()
    if isinstance(message, Message):
        return message.to_wit()
    if isinstance(message, _b.Message):
        return message
    raise TypeError(f"not a message: {message!r}")


class ActionAnswer:
    """What `on_action` answers: `data` (any JSON value, returned to API
    callers) and `reply` (what the member sees). `on_action` may also return
    what other handlers return (a Reply, Message, Form, str or None: no data),
    or a dict/list (data, and no reply)."""

    def __init__(self, data: Any = None, reply: Any = None):
        self.data = data
        self.reply = Reply.of(reply)

    @classmethod
    def of(cls, value) -> "ActionAnswer":
        if isinstance(value, ActionAnswer):
            return value
        if isinstance(value, (dict, list, int, float, bool)) and not isinstance(value, str):
            return cls(data=value)
        return cls(reply=value)

    def to_wit(self):
        return _h.ActionAnswer("" if self.data is None else to_json(self.data), self.reply.response)
