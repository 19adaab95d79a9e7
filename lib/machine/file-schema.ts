// The schema of a machine file (YAML or JSON): one zod schema that validates files and emits the JSON Schema editors use.

import { z } from 'zod';
import { ARCHES, type Arch } from '../arch/table.js';
import { parseChecksum } from '../image/checksum.js';
import { DEBIAN_RELEASES, type DebianRelease, imageName, releaseArches } from '../image/debian-recipe.js';
import { IMAGE_NAME } from '../image/image-name.js';
import { parseSizeMiB } from './size.js';
import { parsePortForward } from './spec.js';

/** What `image: { build: … }` accepts, the images `qlaunch image build` makes (debian-12, …), and their arches. */
export const BUILD_RECIPE_ARCHES: Readonly<Record<string, readonly Arch[]>> = Object.fromEntries(
  (Object.keys(DEBIAN_RELEASES) as DebianRelease[]).map((release) => [
    imageName(release),
    releaseArches(release),
  ]),
);
const BUILD_RECIPES = Object.keys(BUILD_RECIPE_ARCHES) as [string, ...string[]];

/** What to write instead, shown as an error's fix; `describe` is documentation, which editors show. */
export const fixes = z.registry<{ fix: string }>();
const withFix = <T extends z.ZodType>(schema: T, fix: string): T => {
  fixes.add(schema, { fix });
  return schema;
};

// Each check below reports a predicate; the error formatter puts the offending value in front of it.
const accepts = (check: () => unknown): boolean => {
  try {
    check();
    return true;
  } catch {
    return false;
  }
};

// Mirrors parseSizeMiB's grammar so editors flag a bad size as it is typed; the refine keeps whole-MiB exact.
const SIZE_PATTERN = /^\d+(\.\d+)?\s*[KkMmGgTt]?([Ii]?[Bb])?$/;

const size = (description: string, example: string) =>
  withFix(
    z
      .union([
        z
          .string()
          .regex(SIZE_PATTERN, { error: 'is not a size qlaunch understands', abort: true })
          .refine((text) => accepts(() => parseSizeMiB(text)), { error: 'is not a whole number of MiB' }),
        z.int().min(1, { error: 'is not a positive number of MiB' }),
      ])
      .describe(description),
    `write a size such as ${example} (K, M, G or T; a bare number is MiB)`,
  );

const path = (description: string) =>
  withFix(
    z.string().min(1, { error: 'is an empty path' }).describe(description),
    "write the path of a file, relative to the machine file's directory",
  );

const httpUrl = z.url({ protocol: /^https?$/, error: 'is not an http:// or https:// URL' });
const url = withFix(
  httpUrl.describe('Where the image is downloaded from (http or https)'),
  'write an http:// or https:// URL',
);

const firmware = withFix(
  z
    .union([z.enum(['bios', 'uefi']), path('a firmware file')])
    .describe(
      "Firmware for booting from the disk: bios, uefi, or a firmware file (relative to this file); default: the architecture's",
    ),
  'write bios, uefi, or the path of a firmware file',
);

const imageForms = {
  name: withFix(
    z
      .string()
      .regex(IMAGE_NAME, { error: 'is not an image name (lower-case letters, digits, . _ -)' })
      .describe('An image already in the store (`qlaunch image ls`)'),
    'write the name of an image `qlaunch image ls` lists',
  ),
  url,
  checksum: withFix(
    z
      .string()
      .refine((text) => accepts(() => parseChecksum(text)), { error: 'is not sha256:HEX or sha512:HEX' })
      .describe('The image digest, sha256:HEX or sha512:HEX'),
    "write the image's digest as sha256:HEX (64 hex digits) or sha512:HEX (128)",
  ).optional(),
  checksumUrl: withFix(
    httpUrl.describe(
      "The vendor's checksum file that lists the image (SHA256SUMS, SHA512SUMS, Fedora CHECKSUM, .sha512)",
    ),
    "write the http:// or https:// URL of the vendor's checksum file (SHA256SUMS, …)",
  ).optional(),
  build: withFix(
    z
      .enum(BUILD_RECIPES)
      .describe('An image qlaunch builds from distribution packages (`qlaunch image build`)'),
    `write one of ${BUILD_RECIPES.join(', ')}`,
  ),
  path: path('A local disk image, relative to this file'),
  firmware: firmware.optional(),
};

/** The four ways to name a root disk; `firmware` lets one arch's image differ (e.g. a BIOS and a UEFI build). */
const imageSource = withFix(
  z
    .union([
      z.strictObject({ name: imageForms.name, firmware: imageForms.firmware }),
      z
        .strictObject({
          url: imageForms.url,
          checksum: imageForms.checksum,
          checksumUrl: imageForms.checksumUrl,
          firmware: imageForms.firmware,
        })
        .superRefine((image, ctx) => {
          // A download is only kept once verified, so a file that cannot say how is wrong as written.
          if ((image.checksum === undefined) === (image.checksumUrl === undefined)) {
            ctx.addIssue({
              code: 'custom',
              message: image.checksum === undefined ? 'has no checksum' : 'has both checksum and checksumUrl',
              params: { hint: 'give one: checksum: sha256:HEX, or checksumUrl: the vendor’s SHA256SUMS' },
            });
          }
        }),
      z.strictObject({ build: imageForms.build, firmware: imageForms.firmware }),
      z.strictObject({ path: imageForms.path, firmware: imageForms.firmware }),
    ])
    .meta({
      // An id puts this once under `definitions` in the JSON Schema, instead of once per architecture.
      id: 'machine-image',
      description:
        'The root disk: { name: STORED-IMAGE }, { url: https://…, checksum: sha256:HEX or checksumUrl: https://…/SHA256SUMS }, { build: debian-12 } or { path: FILE }',
    }),
  'write one of { name: IMAGE }, { url: https://…, checksum: sha256:HEX }, { url: https://…, checksumUrl: https://…/SHA256SUMS }, { build: debian-12 } or { path: FILE }',
);

const readiness = withFix(
  z
    .union([
      z.enum(['cloud-init', 'ssh']),
      z.strictObject({
        serial: withFix(
          z.string().min(1).describe('Text the serial console shows when the guest is up'),
          'write the text the console shows once the guest is up, e.g. "login:"',
        ),
      }),
    ])
    .describe('When the guest counts as up: cloud-init (finished), ssh (answers), or { serial: TEXT }'),
  'write cloud-init, ssh, or { serial: TEXT }',
);

const fileSchema = withFix(
  z
    .strictObject({
      $schema: z.string().describe('The JSON Schema of this file, for editors').optional(),
      name: withFix(
        z
          .string()
          .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, {
            error: 'is not a machine name (lower-case letters, digits, . _ -)',
          })
          .describe(
            'The machine name (default: the file name without .yaml); a template is named after its file',
          ),
        'write up to 63 lower-case letters, digits, . _ -, starting with a letter or digit',
      ).optional(),
      description: withFix(
        z.string().describe('One line on what this machine is'),
        'write one line of text',
      ).optional(),
      arch: withFix(
        z.enum(ARCHES).describe(`The guest architecture: ${ARCHES.join(', ')} (default: the host's)`),
        `write one of ${ARCHES.join(', ')}, or leave arch out for the host's`,
      ).optional(),
      cpus: withFix(
        z
          .int({ error: 'is not a whole number from 1 to 255' })
          .min(1, { error: 'is not a whole number from 1 to 255' })
          .max(255, { error: 'is not a whole number from 1 to 255' })
          .describe('Virtual CPUs, 1 to 255'),
        'write a whole number from 1 to 255, e.g. cpus: 2',
      ).optional(),
      memory: size('Guest memory: a size such as 512M or 2G (a bare number is MiB)', '512M or 2G').optional(),
      disk: withFix(
        z
          .strictObject({
            size: size(
              "The root disk's size as the guest sees it, e.g. 10G (default: the image's own)",
              '10G',
            ),
          })
          .describe('The root disk (a copy-on-write overlay over the image)'),
        'write disk: { size: 10G }',
      ).optional(),
      image: imageSource.optional(),
      images: withFix(
        z
          .strictObject({
            x86_64: imageSource.optional(),
            aarch64: imageSource.optional(),
            riscv64: imageSource.optional(),
          } satisfies Record<Arch, unknown>)
          .describe(`One image per architecture (${ARCHES.join(', ')}); they win over image`),
        `write images: { ARCH: { … } } with ARCH one of ${ARCHES.join(', ')}`,
      ).optional(),
      kernel: path('A kernel to boot directly, relative to this file').optional(),
      initrd: path('The initramfs for kernel, relative to this file').optional(),
      append: withFix(
        z.string().describe("The kernel command line (for kernel, or added to a built image's own)"),
        'write the kernel command line as one line of text, e.g. append: console=ttyS0',
      ).optional(),
      firmware: firmware.optional(),
      machineType: withFix(
        z
          .string()
          .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, { error: 'is not a QEMU machine type name' })
          .describe(
            "QEMU's machine type: a versioned one (pc-q35-7.2 for x86_64, virt-7.2 for aarch64) to stay on it across QEMU upgrades (default: q35 or virt as this QEMU defines them)",
          ),
        'write a versioned machine type, e.g. pc-q35-7.2 (x86_64) or virt-7.2 (aarch64), or leave machineType out',
      ).optional(),
      ports: withFix(
        z
          .array(
            withFix(
              z
                .string({ error: 'is not a "HOST:GUEST" port forward' })
                .refine((text) => accepts(() => parsePortForward(text)), {
                  error: 'is not a "HOST:GUEST" port forward',
                })
                .describe(
                  'A port forward "HOST:GUEST" (bound to 127.0.0.1), e.g. "8080:80", or with "/udp"; "ADDR:HOST:GUEST" listens on ADDR instead (e.g. "0.0.0.0:8080:80", reachable from other machines)',
                ),
              'write "HOST:GUEST" in quotes, e.g. "8080:80", "5353:53/udp", or "0.0.0.0:8080:80" to listen on every interface',
            ),
          )
          .describe('Ports forwarded from 127.0.0.1 on the host to the guest, e.g. ["2222:22", "8080:80"]'),
        'write a list of "HOST:GUEST" forwards, e.g. ports: ["2222:22", "8080:80"]',
      ).optional(),
      userData: withFix(
        z
          .union([
            path('A user-data file (#cloud-config, a script, …), relative to this file').refine(
              (text) => !text.includes('\n'),
              {
                error: 'is several lines, not a file name',
                params: {
                  hint: 'write an inline #cloud-config as a YAML mapping under userData, or give a file name',
                },
              },
            ),
            z.record(z.string(), z.unknown()).describe('An inline #cloud-config'),
          ])
          .describe(
            'cloud-init user-data: a file relative to this file, or a #cloud-config mapping written inline',
          ),
        'write the name of a user-data file, or a #cloud-config mapping under userData',
      ).optional(),
      ssh: withFix(
        z
          .strictObject({
            user: withFix(
              z
                .string()
                .regex(/^[a-z_][a-z0-9_-]*$/, { error: 'is not a user name' })
                .describe(
                  "The image's default user, who gets qlaunch's SSH key (debian, ubuntu, fedora, alpine)",
                ),
              "write the image's default user, e.g. debian (lower-case letters, digits, _ -)",
            ),
          })
          .describe('How qlaunch logs in to the guest'),
        'write ssh: { user: NAME }',
      ).optional(),
      readiness: readiness.optional(),
      mounts: withFix(
        z
          .array(
            withFix(
              z
                .strictObject({
                  host: path('A host directory, relative to this file'),
                  guest: withFix(
                    z
                      .string()
                      .regex(/^\/./, { error: 'is not an absolute path below /' })
                      .describe('Where the guest mounts it (default: the host path)'),
                    'write an absolute guest path, e.g. guest: /src',
                  ).optional(),
                  writable: withFix(
                    z.boolean().describe('true: the guest may write to it (default: read-only)'),
                    'write writable: true, or leave it out for read-only',
                  ).optional(),
                  type: withFix(
                    z
                      .enum(['virtiofs', '9p', 'auto'])
                      .describe('virtiofs, 9p, or auto (default: virtiofs where virtiofsd can run, else 9p)'),
                    'write type: virtiofs, 9p or auto',
                  ).optional(),
                })
                .describe('A host directory the guest mounts at boot'),
              'write { host: DIR, guest: /PATH, writable: true }',
            ),
          )
          .describe('Host directories the guest sees (`--mount`)'),
        'write a list, e.g. mounts: [{ host: ./src, guest: /src }]',
      ).optional(),
      display: withFix(
        z
          .enum(['none', 'vnc'])
          .describe('vnc: a screen — a graphics device shown over VNC on a unix socket (`--display vnc`)'),
        'write display: vnc for a screen, or leave it out for none',
      ).optional(),
      sandbox: withFix(
        z.boolean().describe('false: QEMU runs without its seccomp filter (default true; `--no-sandbox`)'),
        'write sandbox: false to turn the filter off, or leave sandbox out',
      ).optional(),
      runAsRoot: withFix(
        z
          .boolean()
          .describe(
            'true: under root, QEMU keeps running as root instead of an unprivileged user (`--run-as-root`)',
          ),
        'write runAsRoot: true to keep QEMU as root, or leave runAsRoot out',
      ).optional(),
    })
    .meta({
      title: 'qlaunch machine',
      description: 'A qlaunch machine: what to boot and with what (`qlaunch run NAME` or `--machine FILE`)',
    }),
  'write a mapping of fields, e.g. image: { name: debian-12 }; see machines/*.yaml',
);

/** The file as written, after schema checks (sizes, ports and paths not yet resolved). */
export type MachineFile = z.infer<typeof fileSchema>;
export type MachineImageSource = z.infer<typeof imageSource>;

/** Checks between fields the JSON Schema cannot say; each issue carries its own fix as `params.hint`. */
export const machineFileSchema = fileSchema.superRefine((file, ctx) => {
  const problem = (path: PropertyKey[], message: string, hint: string) =>
    ctx.addIssue({ code: 'custom', path, message, params: { hint } });
  const listed = ARCHES.filter((arch) => file.images?.[arch] !== undefined);
  const imageArches = file.image ? ARCHES : listed;
  if (file.image === undefined && file.images === undefined && file.kernel === undefined) {
    problem([], 'there is nothing to boot', 'add image: { … } (a disk), images: { ARCH: … } or kernel: FILE');
  }
  if (file.images !== undefined && listed.length === 0) {
    problem(['images'], 'lists no architecture', `give at least one of ${ARCHES.join(', ')}`);
  }
  if (file.arch !== undefined && listed.length > 0 && !imageArches.includes(file.arch)) {
    problem(
      ['arch'],
      `has no image in images (it has ${listed.join(', ')})`,
      `add images.${file.arch}, or drop arch`,
    );
  }
  const builds = [file.image, ...listed.map((arch) => file.images?.[arch])].some((i) => i && 'build' in i);
  const buildArch = (image: MachineImageSource | undefined, arch: Arch | undefined, path: PropertyKey[]) => {
    const arches = image && 'build' in image && arch ? BUILD_RECIPE_ARCHES[image.build] : undefined;
    if (arches && !arches.includes(arch!)) {
      problem(
        path,
        `cannot be built for ${arch}`,
        `${(image as { build: string }).build} is built for ${arches.join(', ')}`,
      );
    }
  };
  for (const arch of listed) buildArch(file.images?.[arch], arch, ['images', arch, 'build']);
  buildArch(file.image, file.arch, ['image', 'build']);
  if (file.initrd !== undefined && file.kernel === undefined) {
    problem(['initrd'], 'is given without a kernel', 'add kernel: FILE, or drop initrd');
  }
  if (file.append !== undefined && file.kernel === undefined && !builds) {
    problem(['append'], 'is given without a kernel', 'add kernel: FILE, or drop append');
  }
});

/** The JSON Schema of machine files (draft-07, which YAML and JSON editors understand best). */
export function machineJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(fileSchema, { target: 'draft-07', io: 'input' }) as Record<string, unknown>;
}
