"""Write and read Group Policy Preferences ``ScheduledTasks.xml`` (MS-GPPREF §2.2.1.18).

The API mirrors :mod:`plistlib`: :func:`dumps` turns a list of
:class:`~generator.records.ImmediateTask` into the file's bytes, :func:`loads` reads
such a file back into one ``dict`` per item, and every problem is a :class:`GppTasksError`.

The file lives at ``<GPO>\\Machine\\Preferences\\ScheduledTasks\\ScheduledTasks.xml``.  Each task
is written as an *Immediate Task (At least Windows 7)* - ``ImmediateTaskV2`` - that runs once as
SYSTEM with highest privileges, the shape the Defender for Endpoint GP onboarding guide has the
admin build by hand in GPMC::

    <?xml version="1.0" encoding="utf-8"?>CRLF
    <ScheduledTasks clsid="{CC63F200-7309-4ba0-B154-A71CD118DBCC}"><ImmediateTaskV2
      clsid="{9756B581-76EC-4169-9AFC-0CA8D43ADB5F}" name=.. image="0" changed="YYYY-MM-DD HH:MM:SS"
      uid="{GUID}" userContext="0" removePolicy="0"><Properties action="C" name=..
      runAs="NT AUTHORITY\\System" logonType="S4U"><Task version="1.3">
      RegistrationInfo(Author, Description) Principals(UserId, LogonType S4U, RunLevel
      HighestAvailable) Settings(...) Triggers(TimeTrigger %LocalTimeXmlEx%..%LocalTimeXmlEx%)
      Actions Context="Author"(Exec(Command, Arguments))
    </Task></Properties></ImmediateTaskV2>CRLF</ScheduledTasks>

Decisions and the evidence behind them:

* **Layout.**  The XML declaration is written with double quotes (lxml would write single
  quotes, so the declaration is a constant), then CRLF, then the root start tag and all items on
  one line, then CRLF before ``</ScheduledTasks>``, no trailing newline.  That is the shape of
  GPP files written by GPMC as they appear in public copies (a real ``Groups.xml`` from a domain
  controller; ImmediateTaskV2 files exported from GPMC and pasted into deployment scripts): one
  body line with the line break only before the closing root tag.  The CR of the line breaks
  could not be verified from bytes (public copies went through git or web pages; the shared
  ADTierGuard sample is hand-authored and uses LF): CRLF is the Windows convention and XML parsers
  treat CRLF and LF alike (XML 1.0 §2.11), so :data:`EOL` is one constant to change.
* **Element order.**  Inside ``Task``: RegistrationInfo, Principals, Settings, Triggers,
  Actions - the order of the GPMC-exported ImmediateTaskV2 files seen in public repositories.
  PowerView's hand-written template and the shared ADTierGuard sample put Actions before
  Triggers; both are valid because the Task Scheduler schema declares ``taskType`` as
  ``xs:all`` (any order).  Inside ``Principal``: UserId, LogonType, RunLevel; inside ``Settings``
  the order of GPMC's output (IdleSettings, MultipleInstancesPolicy, DisallowStartIfOnBatteries,
  StopIfGoingOnBatteries, AllowHardTerminate, StartWhenAvailable, AllowStartOnDemand, Enabled,
  Hidden, ExecutionTimeLimit, Priority, DeleteExpiredTaskAfter), which keeps the relative order
  of every element the shared sample also has.
* **Values.**  ``image="0"`` (the "create" icon, matching ``action="C"``); ``runAs`` and
  ``UserId`` ``NT AUTHORITY\\System`` - never ``NT AUTHORITY\\Well-Known-System-Account``, which
  GPMC on Server 2019+ may write and the MDE docs say to replace; no battery limits;
  ``ExecutionTimeLimit`` PT1H; ``Priority`` 7; ``StartBoundary``/``EndBoundary``
  ``%LocalTimeXmlEx%`` (a GPP variable the client expands to "now") and ``DeleteExpiredTaskAfter``
  PT0S, which together make the task run once at the next policy refresh and delete itself.
  ``Task version="1.3"`` as in the MDE-documented task (GPMC has also been seen writing 1.2 for
  the same dialog).  Empty Description/Arguments are written as ``<X></X>`` as GPMC does.
* **Quoting the command.**  A ``Command`` containing a space is wrapped in double quotes.
  Task Scheduler's own editor treats an unquoted ``C:\\Program Files\\x.exe`` as program
  ``C:\\Program`` with arguments ``Files\\x.exe`` (win-acme/win-acme#1704), unquoted paths with
  spaces fail with ERROR_BAD_EXE_FORMAT or "'C:\\Users\\John' is not recognized" (microsoft/
  Windows-classic-samples#242, ChrisAnd1998/TaskbarX#894), and the GUI puts the quotes itself
  when a program with spaces is browsed to.  The onboarding command is a ``.cmd`` on a UNC share,
  which Windows hands to ``cmd.exe`` - the case where an unquoted space breaks.  Quoting a path
  without spaces changes nothing, so it is left bare (as GPMC shows it).  A command that already
  contains ``"`` is refused: ``"`` cannot occur in a Windows file name, and callers pass the bare
  path.  :func:`loads` removes the one pair of quotes again, so the round trip is exact.
* **Escaping.**  Every value is set on lxml elements/attributes, so ``& < > " '`` come out as
  entities or literals exactly as XML needs (``&amp;`` in Arguments etc.); ``%`` and ``$`` are
  plain characters to XML.  Note that the GPP client expands ``%NAME%`` variables in several
  fields and Task Scheduler expands environment variables in Command/Arguments - that is the
  platform's behaviour and not changed here.
* **Refused input** (naming the task and field): a name that is empty, starts with a space, is
  ``.``/``..`` or holds ``\\ / :`` (MS-TSCH §2.3.11 task names) or a control character; an empty
  command or one with ``"`` or a control character; a control character other than tab/CR/LF in
  author/arguments/description, or any character XML 1.0 cannot carry; ``changed`` before year 1;
  two tasks with the same ``uid`` or the same name (GPP identifies items by uid, Task Scheduler
  by name).  ``changed`` is written to the second: an aware datetime is converted to UTC first,
  microseconds are dropped.

The reader (:func:`loads`) is small: it checks the root element and clsid, reads every item that
has ``Properties/Task`` (``ImmediateTaskV2``, ``TaskV2`` ...) and returns a ``dict`` per item with
the :class:`ImmediateTask` fields under the same names and types (``name``, ``uid``, ``command``,
``arguments``, ``description``, ``author``, ``changed``) plus ``item``, ``clsid``, ``image``,
``user_context``, ``remove_policy``, ``action``, ``run_as``, ``logon_type``, ``task_version``,
``user_id``, ``principal_logon_type``, ``run_level``, ``settings`` (Settings children, nested
IdleSettings as a dict) and ``triggers`` (one dict per trigger: ``type``, ``start_boundary``,
``end_boundary``, ``enabled``).  XML comments are ignored.  External entities and DTD loading
are off.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import fields
from typing import Any, Iterable

from lxml import etree

from generator.records import ImmediateTask, braced
from generator.errors import MdegenError

__all__ = [
    "GppTasksError", "dumps", "loads", "quote_command", "unquote_command", "format_changed",
    "ROOT_CLSID", "IMMEDIATE_TASK_V2_CLSID", "RUN_AS", "LOCAL_TIME", "EOL", "XML_DECLARATION",
    "TASK_FIELDS", "SETTINGS",
]

ROOT_CLSID = "{CC63F200-7309-4ba0-B154-A71CD118DBCC}"
IMMEDIATE_TASK_V2_CLSID = "{9756B581-76EC-4169-9AFC-0CA8D43ADB5F}"
RUN_AS = "NT AUTHORITY\\System"
LOGON_TYPE = "S4U"
RUN_LEVEL = "HighestAvailable"
TASK_VERSION = "1.3"
LOCAL_TIME = "%LocalTimeXmlEx%"
EOL = b"\r\n"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'

#: The ImmediateTask fields :func:`loads` returns under the same names.
TASK_FIELDS = tuple(f.name for f in fields(ImmediateTask))

#: Settings children in the order written; IdleSettings is a nested element.
SETTINGS: tuple[tuple[str, Any], ...] = (
    ("IdleSettings", (("Duration", "PT5M"), ("WaitTimeout", "PT1H"),
                      ("StopOnIdleEnd", "false"), ("RestartOnIdle", "false"))),
    ("MultipleInstancesPolicy", "IgnoreNew"),
    ("DisallowStartIfOnBatteries", "false"),
    ("StopIfGoingOnBatteries", "false"),
    ("AllowHardTerminate", "true"),
    ("StartWhenAvailable", "true"),
    ("AllowStartOnDemand", "true"),
    ("Enabled", "true"),
    ("Hidden", "false"),
    ("ExecutionTimeLimit", "PT1H"),
    ("Priority", "7"),
    ("DeleteExpiredTaskAfter", "PT0S"),
)

# Characters XML 1.0 cannot carry at all (the Char production), and the C0 controls we refuse in
# single-line fields.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_NAME_FORBIDDEN = re.compile(r"[\\/:]")


class GppTasksError(MdegenError):
    """A ScheduledTasks.xml cannot be written from these tasks, or bytes are not one we can read."""


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def format_changed(value: dt.datetime) -> str:
    """``changed`` as GPMC writes it: ``YYYY-MM-DD HH:MM:SS`` (aware datetimes in UTC)."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}")


def quote_command(command: str) -> str:
    """The Command text: the path in double quotes when it holds a space, else as is."""
    return f'"{command}"' if " " in command else command


def unquote_command(text: str) -> str:
    """Inverse of :func:`quote_command` (removes one surrounding pair of quotes, if any)."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"' and '"' not in text[1:-1]:
        return text[1:-1]
    return text


def _fail(index: int, task: Any, field: str, problem: str) -> GppTasksError:
    name = getattr(task, "name", None)
    who = f"task {index}" + (f" ({name!r})" if isinstance(name, str) and name else "")
    return GppTasksError(f"ScheduledTasks.xml: {who}: {field}: {problem}")


def _check_text(index: int, task: ImmediateTask, field: str, value: object, *,
                single_line: bool, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise _fail(index, task, field, f"must be a string, not {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise _fail(index, task, field, "must not be empty")
    bad = (_CONTROL if single_line else _NOT_XML).search(value)
    if bad:
        raise _fail(index, task, field,
                    f"holds the character U+{ord(bad.group()):04X} at position {bad.start()}, "
                    "which " + ("a single-line value must not contain" if single_line
                                else "XML 1.0 cannot represent"))
    return value


def _validate(index: int, task: ImmediateTask) -> None:
    if not isinstance(task, ImmediateTask):
        raise GppTasksError(f"ScheduledTasks.xml: task {index}: expected an ImmediateTask, "
                            f"got {type(task).__name__}")
    name = _check_text(index, task, "name", task.name, single_line=True, allow_empty=False)
    if name[0] == " ":
        raise _fail(index, task, "name", "must not start with a space (Task Scheduler refuses it)")
    if name in (".", ".."):
        raise _fail(index, task, "name", f"{name!r} is not a valid task name")
    bad = _NAME_FORBIDDEN.search(name)
    if bad:
        raise _fail(index, task, "name", f"must not contain {bad.group()!r} "
                    "(Task Scheduler task names cannot hold \\ / :)")
    command = _check_text(index, task, "command", task.command, single_line=True,
                          allow_empty=False)
    if '"' in command:
        raise _fail(index, task, "command", 'must not contain \'"\' - pass the bare program '
                    "path (no Windows file name holds a double quote); mdegen adds the quotes "
                    "when the path has spaces, and arguments belong in 'arguments'")
    if command != command.strip():
        raise _fail(index, task, "command", "must not start or end with whitespace")
    _check_text(index, task, "author", task.author, single_line=True)
    _check_text(index, task, "arguments", task.arguments, single_line=False)
    _check_text(index, task, "description", task.description, single_line=False)
    if not isinstance(task.uid, uuid.UUID):
        raise _fail(index, task, "uid", f"must be a uuid.UUID, not {type(task.uid).__name__}")
    if not isinstance(task.changed, dt.datetime):
        raise _fail(index, task, "changed",
                    f"must be a datetime, not {type(task.changed).__name__}")


def _sub(parent: etree._Element, tag: str, text: str | None = None,
         attrs: Iterable[tuple[str, str]] = ()) -> etree._Element:
    el = etree.SubElement(parent, tag)
    for key, value in attrs:
        el.set(key, value)
    if text is not None:
        el.text = text
    return el


def _item(root: etree._Element, task: ImmediateTask) -> etree._Element:
    item = _sub(root, "ImmediateTaskV2", attrs=(
        ("clsid", IMMEDIATE_TASK_V2_CLSID), ("name", task.name), ("image", "0"),
        ("changed", format_changed(task.changed)), ("uid", braced(task.uid)),
        ("userContext", "0"), ("removePolicy", "0"),
    ))
    props = _sub(item, "Properties", attrs=(
        ("action", "C"), ("name", task.name), ("runAs", RUN_AS), ("logonType", LOGON_TYPE),
    ))
    t = _sub(props, "Task", attrs=(("version", TASK_VERSION),))
    reg = _sub(t, "RegistrationInfo")
    _sub(reg, "Author", task.author)
    _sub(reg, "Description", task.description)
    principal = _sub(_sub(t, "Principals"), "Principal", attrs=(("id", "Author"),))
    _sub(principal, "UserId", RUN_AS)
    _sub(principal, "LogonType", LOGON_TYPE)
    _sub(principal, "RunLevel", RUN_LEVEL)
    settings = _sub(t, "Settings")
    for tag, value in SETTINGS:
        if isinstance(value, tuple):
            nested = _sub(settings, tag)
            for sub_tag, sub_value in value:
                _sub(nested, sub_tag, sub_value)
        else:
            _sub(settings, tag, value)
    trigger = _sub(_sub(t, "Triggers"), "TimeTrigger")
    _sub(trigger, "StartBoundary", LOCAL_TIME)
    _sub(trigger, "EndBoundary", LOCAL_TIME)
    _sub(trigger, "Enabled", "true")
    exec_ = _sub(_sub(t, "Actions", attrs=(("Context", "Author"),)), "Exec")
    _sub(exec_, "Command", quote_command(task.command))
    _sub(exec_, "Arguments", task.arguments)
    return item


def dumps(tasks: list[ImmediateTask]) -> bytes:
    """The ScheduledTasks.xml bytes for *tasks* (at least one), in the order given."""
    tasks = list(tasks)
    if not tasks:
        raise GppTasksError("ScheduledTasks.xml: no task to write (omit the file instead)")
    seen_uid: dict[uuid.UUID, int] = {}
    seen_name: dict[str, int] = {}
    for i, task in enumerate(tasks):
        _validate(i, task)
        if task.uid in seen_uid:
            raise _fail(i, task, "uid", f"{braced(task.uid)} is already used by task "
                        f"{seen_uid[task.uid]}")
        key = task.name.casefold()
        if key in seen_name:
            raise _fail(i, task, "name", f"already used by task {seen_name[key]} "
                        "(Task Scheduler names are case-insensitive)")
        seen_uid[task.uid] = i
        seen_name[key] = i
    root = etree.Element("ScheduledTasks")
    root.set("clsid", ROOT_CLSID)
    for task in tasks:
        _item(root, task)
    root[-1].tail = "\n"
    body = etree.tostring(root, encoding="utf-8", xml_declaration=False)
    # Only the tail above and newlines inside text values are literal LFs in the body; XML
    # parsers read CRLF as LF (XML 1.0 §2.11), so widening every LF to CRLF changes no value.
    return XML_DECLARATION + EOL + body.replace(b"\n", EOL)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

def _parse(data: bytes) -> etree._Element:
    if not isinstance(data, (bytes, bytearray)):
        raise GppTasksError(f"ScheduledTasks.xml: expected bytes, got {type(data).__name__}")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             remove_comments=True, huge_tree=False)
    try:
        return etree.fromstring(bytes(data), parser)
    except etree.XMLSyntaxError as exc:
        raise GppTasksError(f"ScheduledTasks.xml: not well-formed XML: {exc}") from None


def _child(el: etree._Element, tag: str, where: str) -> etree._Element:
    found = el.find(tag)
    if found is None:
        raise GppTasksError(f"ScheduledTasks.xml: {where}: <{el.tag}> has no <{tag}>")
    return found


def _text(el: etree._Element | None) -> str:
    return "" if el is None or el.text is None else el.text


def _settings(el: etree._Element | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if el is None:
        return out
    for child in el:
        if len(child):
            out[child.tag] = {g.tag: _text(g) for g in child}
        else:
            out[child.tag] = _text(child)
    return out


def _read_item(item: etree._Element, index: int) -> dict[str, Any]:
    where = f"item {index} <{item.tag}> {item.get('name')!r}"
    props = _child(item, "Properties", where)
    task = _child(props, "Task", where)
    try:
        uid = uuid.UUID(item.get("uid", ""))
    except ValueError:
        raise GppTasksError(f"ScheduledTasks.xml: {where}: uid {item.get('uid')!r} "
                            "is not a GUID") from None
    try:
        changed = dt.datetime.strptime(item.get("changed", ""), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise GppTasksError(f"ScheduledTasks.xml: {where}: changed {item.get('changed')!r} is "
                            "not YYYY-MM-DD HH:MM:SS") from None
    reg = task.find("RegistrationInfo")
    principal = task.find("Principals/Principal")
    exec_ = task.find("Actions/Exec")
    triggers = [
        {"type": trig.tag, "start_boundary": _text(trig.find("StartBoundary")),
         "end_boundary": _text(trig.find("EndBoundary")), "enabled": _text(trig.find("Enabled"))}
        for trig in task.findall("Triggers/*")
    ]
    return {
        "item": item.tag,
        "clsid": item.get("clsid"),
        "name": item.get("name", ""),
        "image": item.get("image"),
        "changed": changed,
        "uid": uid,
        "user_context": item.get("userContext"),
        "remove_policy": item.get("removePolicy"),
        "action": props.get("action"),
        "run_as": props.get("runAs"),
        "logon_type": props.get("logonType"),
        "task_version": task.get("version"),
        "author": _text(reg.find("Author") if reg is not None else None),
        "description": _text(reg.find("Description") if reg is not None else None),
        "user_id": _text(principal.find("UserId") if principal is not None else None),
        "principal_logon_type": _text(principal.find("LogonType") if principal is not None
                                      else None),
        "run_level": _text(principal.find("RunLevel") if principal is not None else None),
        "settings": _settings(task.find("Settings")),
        "triggers": triggers,
        "command": unquote_command(_text(exec_.find("Command") if exec_ is not None else None)),
        "arguments": _text(exec_.find("Arguments") if exec_ is not None else None),
    }


def loads(data: bytes) -> list[dict[str, Any]]:
    """Read ScheduledTasks.xml bytes: one dict per task item, in file order (see module doc)."""
    root = _parse(data)
    if root.tag != "ScheduledTasks":
        raise GppTasksError(f"ScheduledTasks.xml: root element is <{root.tag}>, "
                            "expected <ScheduledTasks>")
    if root.get("clsid") != ROOT_CLSID:
        raise GppTasksError(f"ScheduledTasks.xml: root clsid is {root.get('clsid')!r}, "
                            f"expected {ROOT_CLSID!r}")
    return [_read_item(item, i) for i, item in enumerate(root) if isinstance(item.tag, str)]
