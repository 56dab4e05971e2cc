"""The sidecar process: one pygls LanguageServer whose handlers are small functions.

Transport (stdio or loopback WebSocket), JSON-RPC framing and the LSP lifecycle come from
pygls; this module only maps ``crowd/*`` methods onto the Session (lifecycle) and the
EditorCore (events). Custom params are kept as plain dicts (pygls would otherwise build a
namedtuple class per message, the main cost at high event rates).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest
from pygls.lsp.server import LanguageServer
from pygls.protocol import JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage, default_converter

from crowd.version import __version__
from crowd.home import ConsentState, crowd_home, write_consent
from crowd.home import recordings_dir as default_recordings_dir
from crowd.server.editor import EditorCore
from crowd.server.session import ConsentRequired, Session, State
from crowd.server.workspace import DEFAULT_MAX_FILE_BYTES, WorkspaceCache, WorkspaceFolders, uri_to_path

log = logging.getLogger("crowd.sidecar")


class ConsentRequiredError(JsonRpcException):
    CODE = -32001
    MESSAGE = "consent required"


class NotInitializedError(JsonRpcException):
    CODE = -32002
    MESSAGE = "the sidecar is not initialized yet"


def _plain_params_converter():
    """pygls' converter, but custom messages keep their params/results as plain dicts."""
    converter = default_converter()

    def plain(obj: dict[str, Any], cls: type) -> Any:
        fields = {"jsonrpc": obj["jsonrpc"]}
        if cls is JsonRPCResponseMessage:
            fields.update(id=obj["id"], result=obj.get("result"))
        else:
            fields.update(method=obj["method"], params=obj.get("params"))
            if cls is JsonRPCRequestMessage:
                fields["id"] = obj["id"]
        return cls(**fields)

    for cls in (JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage):
        converter.register_structure_hook(cls, plain)
    return converter


class CrowdServer(LanguageServer):
    """The LanguageServer plus the sidecar's state (session, editor core)."""

    def __init__(self, recordings_dir: Path | None = None, component_factories: list[str] | None = None) -> None:
        super().__init__("crowd", __version__, converter_factory=_plain_params_converter)
        self.recordings_dir = recordings_dir
        self.component_factories = component_factories
        self.session: Session | None = None
        self.core: EditorCore | None = None
        self.endpoint: Any = None          # the loopback WebSocket (ws.WebSocketEndpoint), if any
        self._last_state: str | None = None

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Malformed JSON, bad params, handler bugs: log clearly, record, keep going."""
        message = f"{getattr(source, '__name__', source)}: {type(error).__name__}: {error}"
        log.error("protocol error: %s", message)
        if self.session is not None:
            self.session.record("session", "error", message=message[:500])

    def require(self) -> tuple[Session, EditorCore]:
        if self.session is None or self.core is None:
            raise NotInitializedError()
        return self.session, self.core

    def state_changed(self, status: dict[str, Any]) -> None:
        if self.session is not None:
            _persist_consent(self.session, status)
        state = status["state"]
        if state == State.RECORDING.value and self._last_state != state and self.core is not None:
            self.core.replay_state()
        self._last_state = state
        for protocol in self.editor_protocols():
            try:
                protocol.notify("crowd/statusChanged", status)
            except Exception:  # noqa: BLE001 - the client may be gone
                log.debug("could not send crowd/statusChanged", exc_info=True)

    def editor_protocols(self) -> list[Any]:
        """Where notifications go: the stdio client and WebSocket clients that initialized
        (never ``crowd term``'s stream connections)."""
        protocols = [self.protocol] if self.protocol.writer is not None else []
        if self.endpoint is not None:
            protocols += self.endpoint.editors()
        return protocols

    def stream_info(self) -> dict[str, Any] | None:
        """Where ``crowd term`` finds this sidecar (the token stays in the file)."""
        if self.endpoint is None or self.endpoint.port == 0:
            return None
        return {"port": self.endpoint.port, "tokenFile": str(self.endpoint.token_file)}

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            _session_terminals(self.session, attach=False)


# -- setup from initialize ---------------------------------------------------------------
def _folders_of(params: types.InitializeParams) -> WorkspaceFolders:
    roots: list[tuple[str | None, Path]] = []
    for folder in params.workspace_folders or []:
        path = uri_to_path(folder.uri)
        if path is not None:
            roots.append((folder.name, path))
    if not roots:
        root = uri_to_path(params.root_uri) if params.root_uri else None
        if root is None and params.root_path:
            root = Path(params.root_path)
        if root is not None:
            roots.append((None, root))
    return WorkspaceFolders(roots)


def _secret_path_check():
    try:
        from crowd.privacy import is_secret_path  # noqa: PLC0415 - optional part
    except ImportError:
        return None
    return is_secret_path


def on_initialize(ls: CrowdServer, params: types.InitializeParams) -> None:
    if ls.session is not None:
        # a second client (another window, a stray script) must not replace the editor's session
        raise JsonRpcInvalidRequest("the sidecar is already initialized by its editor")
    options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
    settings = options.get("settings") or {}
    if not isinstance(settings, dict):
        settings = {}
    cache = WorkspaceCache(
        _folders_of(params),
        max_file_bytes=int(settings.get("maxFileBytes") or DEFAULT_MAX_FILE_BYTES),
        excludes=[str(p) for p in settings.get("exclude") or []],
        is_secret_path=_secret_path_check(),
    )
    cache.start_scan()
    recordings = Path(settings["recordingsDir"]) if settings.get("recordingsDir") else (
        ls.recordings_dir or default_recordings_dir())
    consent = options.get("consent")
    ls.session = Session(
        cache, recordings_dir=recordings, settings=settings, client=options.get("client") or {},
        consent=None if consent is None else bool(consent),
        component_factories=[] if settings.get("components") is False else ls.component_factories,
        on_state_change=ls.state_changed, home=crowd_home(),
        # the editor window's session before this process (crowd.server.continuation)
        continue_session=options.get("continueSession") if isinstance(options.get("continueSession"), str) else None,
    )
    ls.core = EditorCore(ls.session)
    # a panic a crash interrupted is carried out before anything else is recorded
    threading.Thread(target=ls.session.resume_panic, name="crowd-panic-resume", daemon=True).start()
    if ls.session.consent_fact() is None:
        # the editor's stored answer; a fact already there (another window's latest) stands
        _persist_consent(ls.session, ls.session.status())
    ls.session.watch_machine()
    _session_terminals(ls.session, attach=True)
    log.info("initialized: %d workspace folder(s), consent=%s, recordings in %s",
             len(cache.folders.folders), consent, recordings)


def _persist_consent(session: Session, status: dict[str, Any]) -> None:
    """Make the editor's answer (and its pause) the machine's consent fact, which recorders
    running without this sidecar obey (crowd.home.read_consent_fact); an unanswered question
    leaves the last fact as it is, and so does a scripted client (``crowd demo``: setting
    ``shareConsent: false``), whose answer is not the user's."""
    if status["consent"] is None or session.settings.get("shareConsent", True) is False:
        return
    fact: ConsentState = ("declined" if not status["consent"] else
                          "paused" if status["state"] == State.PAUSED.value else "granted")
    try:
        write_consent(fact)
    except OSError:
        log.exception("could not write the consent fact")


def _session_terminals(session: Session, *, attach: bool) -> None:
    """Terminals are tracked for the session's whole life, not per recording: their screens
    are the sum of all output, including what came while paused or before consent."""
    try:
        session.terminals.attach() if attach else session.terminals.close()
    except Exception:  # noqa: BLE001 - the editor's recording works without terminals
        log.exception("terminal tracking failed to %s", "start" if attach else "stop")


def on_initialized(ls: CrowdServer, params: Any) -> None:
    session = ls.session
    if session is not None and session.consent and session.settings.get("autoStart", True):
        if session.consent_fact() in ("paused", "declined"):
            # the machine's fact (another window paused or declined) holds this one back
            # until it is granted again (Session.obey_consent_fact)
            session.held_by_fact = True
            log.info("not recording: the machine's consent fact is %s", session.consent_fact())
            return
        session.set_consent(True)


def on_shutdown(ls: CrowdServer, params: Any) -> None:
    ls.close()


# -- crowd/* -----------------------------------------------------------------------------
def _params(params: Any) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise JsonRpcInvalidParams("params must be an object")
    return params


def on_events(ls: CrowdServer, params: Any) -> dict[str, Any]:
    session, core = ls.require()
    result = core.handle_batch(_params(params).get("events")).as_dict()
    # the newest recorded events the privacy typing guard still holds (not yet at the writer)
    result["held"] = session.holding
    return result


def on_status(ls: CrowdServer, params: Any) -> dict[str, Any]:
    if ls.session is None:
        return {"state": "uninitialized"}
    status = ls.session.status()
    stream = ls.stream_info()
    if stream is not None:
        status["stream"] = stream
    terminals = _terminal_summary(ls.session)
    if terminals is not None:
        status["terminals"] = terminals
    return status


def _terminal_summary(session: Session) -> dict[str, Any] | None:
    return session.terminals.summary()


def on_consent(ls: CrowdServer, params: Any) -> dict[str, Any]:
    session, _ = ls.require()
    granted = _params(params).get("granted")
    if not isinstance(granted, bool):
        raise JsonRpcInvalidParams("crowd/consent needs {granted: true|false}")
    if session.settings.get("shareConsent", True) is not False:
        # the user's answer here is the machine's latest: it becomes the fact before the session
        # acts on it, else the fact watcher may act on the older fact while consent starts the
        # recording (a grant after a decline was stopped at once: "the machine's consent fact
        # is declined", tests/bridge/test_editor_e2e.py)
        try:
            write_consent("granted" if granted else "declined")
        except OSError:
            log.exception("could not write the consent fact")
    return session.set_consent(granted)


def on_start(ls: CrowdServer, params: Any) -> dict[str, Any]:
    session, _ = ls.require()
    try:
        return session.start()
    except ConsentRequired as exc:
        raise ConsentRequiredError(str(exc)) from None


def on_stop(ls: CrowdServer, params: Any) -> dict[str, Any]:
    return ls.require()[0].stop()


def on_pause(ls: CrowdServer, params: Any) -> dict[str, Any]:
    return ls.require()[0].pause()


def on_resume(ls: CrowdServer, params: Any) -> dict[str, Any]:
    return ls.require()[0].resume()


def on_panic(ls: CrowdServer, params: Any) -> dict[str, Any]:
    session, _ = ls.require()
    minutes = _params(params).get("minutes")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes < 0):
        raise JsonRpcInvalidParams("crowd/panic 'minutes' must be a non-negative number")
    return session.panic(minutes)


def on_flush(ls: CrowdServer, params: Any) -> dict[str, Any]:
    return {"written": ls.require()[0].flush()}


HANDLERS = {
    types.INITIALIZE: on_initialize,
    types.INITIALIZED: on_initialized,
    types.SHUTDOWN: on_shutdown,
    "crowd/events": on_events,
    "crowd/status": on_status,
    "crowd/consent": on_consent,
    "crowd/start": on_start,
    "crowd/stop": on_stop,
    "crowd/pause": on_pause,
    "crowd/resume": on_resume,
    "crowd/panic": on_panic,
    "crowd/flush": on_flush,
}


def build_server(recordings_dir: Path | None = None, component_factories: list[str] | None = None) -> CrowdServer:
    server = CrowdServer(recordings_dir, component_factories)
    for method, handler in HANDLERS.items():
        server.feature(method)(_bind(server, handler))
    return server


def _bind(server: CrowdServer, handler):
    def bound(params: Any) -> Any:  # pygls passes the params only
        return handler(server, params)

    bound.__name__ = handler.__name__
    bound.__doc__ = handler.__doc__
    return bound


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="crowd-sidecar %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pygls").setLevel(logging.WARNING if level.upper() != "DEBUG" else logging.DEBUG)


def _on_terminate(server: CrowdServer, cleanup: Any = None):
    def handler(signum: int, frame: Any) -> None:
        log.info("signal %d: closing the recording", signum)
        try:
            server.close()
            if cleanup is not None:
                cleanup()
        finally:
            logging.shutdown()
            os._exit(0)

    return handler


def serve_stdio(server: CrowdServer, token_file: Path | None = None, listen: bool = True) -> None:
    """JSON-RPC over stdin/stdout (the editor), plus the loopback WebSocket side door.

    The editor spawns its sidecar on stdio, but ``crowd term`` in the editor's terminals must
    stream into the same session: so the stdio sidecar also listens on a token-protected
    loopback WebSocket (``listen``), served on the same asyncio loop as stdio so handlers never
    run concurrently. ``token_file`` defaults to ``$CROWD_HOME/sidecar-ws.json`` unless another
    live sidecar holds it (another window), then ``sidecar-ws-<pid>.json`` next to it.
    """
    from crowd.server import ws  # noqa: PLC0415

    if listen:
        if token_file is None:
            token_file = ws.default_token_file()
            if ws.token_file_taken(token_file):
                token_file = token_file.with_name(f"sidecar-ws-{os.getpid()}.json")
        server.endpoint = ws.WebSocketEndpoint(server, 0, token_file)

    def cleanup() -> None:
        if server.endpoint is not None:
            ws.remove_token_file(server.endpoint.token_file)

    signal.signal(signal.SIGTERM, _on_terminate(server, cleanup))
    try:
        asyncio.run(_stdio_main(server))
    except BrokenPipeError:
        log.error("the editor closed the pipe; stopping")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        cleanup()
        server.shutdown()
        server.close()


def _answer_stdio(server: CrowdServer, message: dict[str, Any]) -> None:
    """Write one JSON-RPC message (a framing error's answer) to the editor's pipe."""
    writer = server.protocol.writer
    if writer is None:
        return
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    try:
        writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    except OSError:
        log.debug("could not answer a framing error", exc_info=True)


async def _stdio_main(server: CrowdServer) -> None:
    from pygls.io_ import StdoutWriter  # noqa: PLC0415

    from crowd.server.framing import FrameReader, read_stdio, stdin_reader  # noqa: PLC0415

    server._stop_event = threading.Event()
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    endpoint = server.endpoint
    if endpoint is not None:
        try:
            await endpoint.start()
        except Exception as exc:  # noqa: BLE001 - the editor's recording works without the side door
            log.error("no loopback WebSocket for crowd term (%s); its terminals record standalone", exc)
            server.endpoint = endpoint = None
    try:
        # our framing, not pygls' run_async: bad Content-Length values and deep JSON are
        # answered and reading goes on (crowd.server.framing says what pygls did with them)
        protocol = server.protocol
        await read_stdio(FrameReader(stdin_reader(sys.stdin.buffer, server.thread_pool)),
                         handle=protocol.handle_message, answer=lambda message: _answer_stdio(server, message),
                         object_hook=protocol.structure_message,
                         report=lambda exc: server.report_server_error(exc, JsonRpcException),
                         stop=server._stop_event)
    finally:
        if endpoint is not None:
            await endpoint.stop()


def serve_ws(server: CrowdServer, port: int, token_file: Path) -> None:
    from crowd.server.ws import remove_token_file, serve_websocket  # noqa: PLC0415 - websockets only when asked

    signal.signal(signal.SIGTERM, _on_terminate(server, lambda: remove_token_file(token_file)))
    try:
        serve_websocket(server, port, token_file)
    finally:
        server.close()
