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

const size = (description: string) =>
  z
    .union([
      z
        .string()
        .regex(SIZE_PATTERN, { error: 'is not a size qlaunch understands', abort: true })
        .refine((text) => accepts(() => parseSizeMiB(text)), { error: 'is not a whole number of MiB' }),
      z.int().min(1, { error: 'is not a positive number of MiB' }),
    ])
    .describe(description);

const path = (description: string) => z.string().min(1, { error: 'is an empty path' }).describe(description);

const url = z
  .url({ protocol: /^https?$/, error: 'is not an http:// or https:// URL' })
  .describe('Where the image is downloaded from (http or https)');

const firmware = z
  .union([z.enum(['bios', 'uefi']), path('a firmware file')])
  .describe(
    "Firmware for booting from the disk: bios, uefi, or a firmware file (relative to this file); default: the architecture's",
  );

const imageForms = {
  name: z
    .string()
    .regex(IMAGE_NAME, { error: 'is not an image name (lower-case letters, digits, . _ -)' })
    .describe('An image already in the store (`qlaunch image ls`)'),
  url,
  checksum: z
    .string()
    .refine((text) => accepts(() => parseChecksum(text)), { error: 'is not sha256:HEX or sha512:HEX' })
    .describe('The image digest, sha256:HEX or sha512:HEX')
    .optional(),
  checksumUrl: url
    .describe(
      "The vendor's checksum file that lists the image (SHA256SUMS, SHA512SUMS, Fedora CHECKSUM, .sha512)",
    )
    .optional(),
  build: z
    .enum(BUILD_RECIPES)
    .describe('An image qlaunch builds from distribution packages (`qlaunch image build`)'),
  path: path('A local disk image, relative to this file'),
  firmware: firmware.optional(),
};

/** The four ways to name a root disk; `firmware` lets one arch's image differ (e.g. a BIOS and a UEFI build). */
const imageSource = z
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
  });

const readiness = z
  .union([
    z.enum(['cloud-init', 'ssh']),
    z.strictObject({
      serial: z.string().min(1).describe('Text the serial console shows when the guest is up'),
    }),
  ])
  .describe('When the guest counts as up: cloud-init (finished), ssh (answers), or { serial: TEXT }');

const fileSchema = z
  .strictObject({
    $schema: z.string().describe('The JSON Schema of this file, for editors').optional(),
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, {
        error: 'is not a machine name (lower-case letters, digits, . _ -)',
      })
      .describe('The machine name (default: the file name without .yaml); a template is named after its file')
      .optional(),
    description: z.string().describe('One line on what this machine is').optional(),
    arch: z
      .enum(ARCHES)
      .describe(`The guest architecture: ${ARCHES.join(', ')} (default: the host's)`)
      .optional(),
    cpus: z
      .int({ error: 'is not a whole number from 1 to 255' })
      .min(1, { error: 'is not a whole number from 1 to 255' })
      .max(255, { error: 'is not a whole number from 1 to 255' })
      .describe('Virtual CPUs, 1 to 255')
      .optional(),
    memory: size('Guest memory: a size such as 512M or 2G (a bare number is MiB)').optional(),
    disk: z
      .strictObject({
        size: size("The root disk's size as the guest sees it, e.g. 10G (default: the image's own)"),
      })
      .describe('The root disk (a copy-on-write overlay over the image)')
      .optional(),
    image: imageSource.optional(),
    images: z
      .strictObject({
        x86_64: imageSource.optional(),
        aarch64: imageSource.optional(),
        riscv64: imageSource.optional(),
      } satisfies Record<Arch, unknown>)
      .describe(`One image per architecture (${ARCHES.join(', ')}); they win over image`)
      .optional(),
    kernel: path('A kernel to boot directly, relative to this file').optional(),
    initrd: path('The initramfs for kernel, relative to this file').optional(),
    append: z
      .string()
      .describe("The kernel command line (for kernel, or added to a built image's own)")
      .optional(),
    firmware: firmware.optional(),
    machineType: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, { error: 'is not a QEMU machine type name' })
      .describe(
        "QEMU's machine type: a versioned one (pc-q35-7.2 for x86_64, virt-7.2 for aarch64) to stay on it across QEMU upgrades (default: q35 or virt as this QEMU defines them)",
      )
      .optional(),
    ports: z
      .array(
        z
          .string({ error: 'is not a "HOST:GUEST" port forward' })
          .refine((text) => accepts(() => parsePortForward(text)), {
            error: 'is not a "HOST:GUEST" port forward',
          })
          .describe(
            'A port forward "HOST:GUEST" (bound to 127.0.0.1), e.g. "8080:80", or with "/udp"; "ADDR:HOST:GUEST" listens on ADDR instead (e.g. "0.0.0.0:8080:80", reachable from other machines)',
          ),
      )
      .describe('Ports forwarded from 127.0.0.1 on the host to the guest, e.g. ["2222:22", "8080:80"]')
      .optional(),
    userData: z
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
      )
      .optional(),
    ssh: z
      .strictObject({
        user: z
          .string()
          .regex(/^[a-z_][a-z0-9_-]*$/, { error: 'is not a user name' })
          .describe("The image's default user, who gets qlaunch's SSH key (debian, ubuntu, fedora, alpine)"),
      })
      .describe('How qlaunch logs in to the guest')
      .optional(),
    readiness: readiness.optional(),
    sandbox: z
      .boolean()
      .describe('false: QEMU runs without its seccomp filter (default true; `--no-sandbox`)')
      .optional(),
    runAsRoot: z
      .boolean()
      .describe(
        'true: under root, QEMU keeps running as root instead of an unprivileged user (`--run-as-root`)',
      )
      .optional(),
  })
  .meta({
    title: 'qlaunch machine',
    description: 'A qlaunch machine: what to boot and with what (`qlaunch run NAME` or `--machine FILE`)',
  });

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
