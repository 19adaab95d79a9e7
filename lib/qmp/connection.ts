// The wire of a QMP session: opens the socket (or takes a stream), runs the handshake, then carries lines.

import type { Duplex } from 'node:stream';
import { armDeadline } from './deadline.js';
import { QmpConnectError, type QmpError } from './errors.js';
import type { JsonObject } from './framing.js';
import { Handshake } from './handshake.js';
import type { QmpEvent, QmpGreeting } from './messages.js';
import type { RunState } from './run-state.js';
import { openUnixSocket, type QmpTarget } from './socket.js';
import { LineTransport } from './transport.js';

interface Connecting {
  handshake: Handshake;
  resolve: (greeting: QmpGreeting) => void;
  reject: (error: Error) => void;
  disarm: () => void;
}

/** What the connection tells its client; each is called before the connect promise settles, so state moves first. */
export interface ConnectionHandlers {
  /** The handshake is done: the session runs with this greeting. */
  onRunning: (greeting: QmpGreeting) => void;
  /** The connect attempt failed; the stream is already gone. */
  onConnectFailed: () => void;
  /** An event that came during the handshake. */
  onEvent: (event: QmpEvent) => void;
  /** A message once the session runs. */
  onMessage: (message: JsonObject) => void;
  /** The transport ended (or a line was bad) once the session runs. */
  onEnd: (reason: QmpError) => void;
}

export class Connection {
  readonly #run: RunState;
  readonly #maxLineBytes: number;
  readonly #handlers: ConnectionHandlers;
  // The socket while it connects (or a handed-in stream before use); then the transport owns it.
  #socket: Duplex | undefined;
  #transport: LineTransport | undefined;
  #connecting: Connecting | undefined;

  constructor(run: RunState, maxLineBytes: number, handlers: ConnectionHandlers) {
    this.#run = run;
    this.#maxLineBytes = maxLineBytes;
    this.#handlers = handlers;
  }

  /** Connects to a checked target within the deadline and resolves with the greeting once negotiated. */
  open(
    target: QmpTarget,
    deadline: { timeout: number; signal: AbortSignal | undefined },
  ): Promise<QmpGreeting> {
    const label = this.#run.label;
    return new Promise((resolve, reject) => {
      const connecting: Connecting = { handshake: new Handshake(label), resolve, reject, disarm: () => {} };
      this.#connecting = connecting;
      if (typeof target !== 'string') this.#socket = target; // owned from here on: a failed connect destroys it
      connecting.disarm = armDeadline(deadline, (expiry) =>
        this.failConnect(connecting.handshake.expired(expiry)),
      );
      if (this.#connecting !== connecting) return;
      if (typeof target !== 'string') {
        if (!target.destroyed && target.readable) this.#attach(target);
        else this.failConnect(new QmpConnectError(label, undefined, `${label} is already closed`));
        return;
      }
      const { socket, connected } = openUnixSocket(target);
      this.#socket = socket;
      connected.then(
        () => (this.#connecting === connecting ? this.#attach(socket) : socket.destroy()),
        (error: Error) => this.#connecting === connecting && this.failConnect(error),
      );
    });
  }

  /** Fails the connect attempt in progress, if any, with `error`; the stream is dropped. */
  failConnect(error: Error): void {
    const connecting = this.#connecting;
    if (connecting === undefined) return;
    this.#connecting = undefined;
    connecting.disarm();
    this.drop(false);
    this.#handlers.onConnectFailed();
    this.#run.log('debug', { error: error.message }, 'connect failed');
    connecting.reject(error);
  }

  /** Queues one line for the peer. */
  send(line: string): void {
    this.#run.log('trace', { line: line.trimEnd() }, 'sending');
    this.#transport?.send(line);
  }

  /** Lets go of the stream; `graceful` sends what is queued and ends it first. */
  drop(graceful: boolean): void {
    this.#transport?.close(graceful);
    this.#transport = undefined;
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #attach(stream: Duplex): void {
    this.#socket = undefined;
    this.#transport = new LineTransport(stream, this.#run.label, this.#maxLineBytes, {
      onMessage: (message, line) => {
        this.#run.log('trace', { line }, 'received');
        if (this.#connecting !== undefined) this.#onHandshakeMessage(this.#connecting, message);
        else this.#handlers.onMessage(message);
      },
      onEnd: (reason) => {
        if (this.#connecting !== undefined) this.failConnect(this.#connecting.handshake.interrupted(reason));
        else this.#handlers.onEnd(reason);
      },
    });
    this.#connecting?.handshake.connected();
    this.#run.log('debug', {}, 'connected, awaiting greeting');
  }

  #onHandshakeMessage(connecting: Connecting, message: JsonObject): void {
    let step: ReturnType<Handshake['receive']>;
    try {
      step = connecting.handshake.receive(message);
    } catch (error) {
      this.failConnect(error as QmpError);
      return;
    }
    if (step.kind === 'send') {
      this.#run.log('debug', { greeting: message }, 'greeting received, negotiating');
      this.send(step.line);
    } else if (step.kind === 'event') {
      this.#handlers.onEvent(step.event);
    } else {
      this.#connecting = undefined;
      connecting.disarm();
      this.#handlers.onRunning(step.greeting);
      connecting.resolve(step.greeting);
    }
  }
}
