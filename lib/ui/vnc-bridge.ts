// A live screen in the page: the viewer's websocket bridged byte for byte to the instance's VNC socket (one VNC
// connection per viewer: QEMU's VNC server takes several clients, unlike the serial console).

import { connect } from 'node:net';
import type { WebSocket } from 'ws';
import { noScreen } from '../guest/screen.js';
import { Instance, type InstanceOptions } from '../instance/instance.js';
import { errorReply } from './error-reply.js';

/** The websocket close code for a server-side failure; the reason carries the message (at most 123 bytes). */
const INTERNAL_ERROR = 1011;

/** Bridge `viewer` to instance `name`'s screen; a screenless or stopped instance closes it with the reason. */
export async function bridgeVnc(name: string, viewer: WebSocket, options: InstanceOptions): Promise<void> {
  viewer.on('error', () => {});
  let instance: Instance;
  try {
    instance = await Instance.open(name, options);
    if (instance.config.display !== 'vnc') {
      throw noScreen(`instance ${name}`);
    }
  } catch (error) {
    const { body } = errorReply(error);
    return void viewer.close(INTERNAL_ERROR, Buffer.from(body.message).subarray(0, 123).toString());
  }
  const vnc = connect(instance.paths.vnc);
  vnc.on('data', (data) => viewer.send(data, { binary: true }));
  vnc.on('error', (error: NodeJS.ErrnoException) => {
    const why =
      error.code === 'ENOENT' || error.code === 'ECONNREFUSED'
        ? `instance ${name} is not running`
        : error.message;
    viewer.close(INTERNAL_ERROR, why.slice(0, 120));
  });
  vnc.on('close', () => viewer.readyState === viewer.OPEN && viewer.close(1000, 'the screen closed'));
  viewer.on('message', (data: Buffer) => vnc.write(data));
  viewer.on('close', () => vnc.destroy());
}
