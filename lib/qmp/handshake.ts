// The opening of a QMP session as a pure state machine: greeting, then qmp_capabilities, then command mode.

import type { DeadlineExpiry } from './deadline.js';
import { expiryError } from './deadline.js';
import { QmpConnectError, type QmpError, QmpGreetingError, QmpNegotiationError } from './errors.js';
import type { JsonObject } from './framing.js';
import {
  classifyMessage,
  encodeCommand,
  parseGreeting,
  type QmpEvent,
  type QmpGreeting,
} from './messages.js';

export type HandshakePhase = 'socket' | 'greeting' | 'negotiating';

/** What the caller does next with one message received during the handshake. */
export type HandshakeStep =
  | { kind: 'send'; line: string }
  | { kind: 'event'; event: QmpEvent }
  | { kind: 'running'; greeting: QmpGreeting };

const ONE_CLIENT_HINT = 'a QMP socket serves one client at a time: is another client connected?';

export class Handshake {
  readonly label: string;
  #phase: HandshakePhase = 'socket';
  #greeting: QmpGreeting | undefined;

  constructor(label: string) {
    this.label = label;
  }

  get phase(): HandshakePhase {
    return this.#phase;
  }

  /** The transport is up; the server speaks first. */
  connected(): void {
    this.#phase = 'greeting';
  }

  /** Consumes one message; throws QMP_GREETING or QMP_NEGOTIATION when the server's answer is wrong. */
  receive(message: JsonObject): HandshakeStep {
    if (this.#phase !== 'negotiating') {
      const greeting = parseGreeting(message);
      this.#greeting = greeting;
      this.#phase = 'negotiating';
      const oob = greeting.capabilities.includes('oob');
      return {
        kind: 'send',
        line: encodeCommand({ name: 'qmp_capabilities', args: oob ? { enable: ['oob'] } : undefined }),
      };
    }
    const incoming = classifyMessage(message);
    if (incoming?.kind === 'event') return incoming;
    if (incoming?.kind === 'return') return { kind: 'running', greeting: this.#greeting! };
    const failure =
      incoming?.kind === 'error'
        ? `${incoming.errorClass}: ${incoming.desc}`
        : `unexpected reply ${JSON.stringify(message)}`;
    throw new QmpNegotiationError(`qmp_capabilities failed on ${this.label}: ${failure}`);
  }

  /** The error for a connect that ran out of time (named after the phase it was in) or was aborted. */
  expired(expiry: DeadlineExpiry): QmpError {
    if (expiry.kind === 'abort') return expiryError(`connecting to ${this.label}`, this.label, expiry);
    const within = `within ${expiry.timeout} ms`;
    if (this.#phase === 'socket') {
      return new QmpConnectError(this.label, 'ETIMEDOUT', `cannot connect to ${this.label} ${within}`);
    }
    if (this.#phase === 'greeting') {
      return new QmpGreetingError(`no QMP greeting ${within} from ${this.label}`, { hint: ONE_CLIENT_HINT });
    }
    return new QmpNegotiationError(`no reply to qmp_capabilities ${within} from ${this.label}`);
  }

  /** The error for a connect cut short by the transport or a protocol error. */
  interrupted(reason: QmpError): QmpError {
    const options = { cause: reason };
    return this.#phase === 'negotiating'
      ? new QmpNegotiationError(`qmp_capabilities failed on ${this.label}: ${reason.message}`, options)
      : new QmpGreetingError(`no valid QMP greeting from ${this.label}: ${reason.message}`, options);
  }
}
