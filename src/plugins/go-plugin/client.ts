/**
 * A hashicorp/go-plugin gRPC plugin (the way Terraform, Vault and Nomad run
 * theirs). The host keeps owning the process; this client does what
 * go-plugin's own client.go does in a Go host:
 *
 *   start      the magic cookie, PLUGIN_PROTOCOL_VERSIONS and the port range
 *              in the environment (goPluginEnvironment)
 *   handshake  the first stdout line CORE|APP|NETWORK|ADDR|grpc, checked
 *              strictly; connect to ADDR; load the manifest's .proto files;
 *              with gRPC reflection (where the plugin registers it) check that
 *              the service serves every mapped method
 *   health     grpc.health.v1.Health/Check for service "plugin": SERVING
 *   invoke     the step's unary method: JSON input → request message by
 *              proto-loader's mapping, reply → JSON output; a status error
 *              is the step's error with its code and message
 *   stdio      plugin.GRPCStdio/StreamStdio, where the plugin serves it:
 *              what it prints after the handshake goes to its logs
 *   shutdown   plugin.GRPCController/Shutdown; the host reaps the process
 *              and kills its group after the stop timeout
 */
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import {
  goPluginMethodMissing,
  GoPluginHandshakeError,
  GoPluginProtoError,
  HandshakeTimeoutError,
  PluginCallTimeoutError,
  PluginGrpcError,
  PluginStepFailedError,
  PluginUnhealthyError,
  type WfrError,
} from '../../errors.js';
import { REQUEST_FIELDS, type ClientContext, type PluginClient } from '../client.js';
import type { Manifest } from '../manifest.js';
import { parseHandshake, type GoPluginHandshake } from './handshake.js';
import { GO_PLUGIN_HEALTH_SERVICE, hostMethods } from './host-protos.js';

type Descriptors = typeof import('protobufjs/ext/descriptor/index.js');
/** protobufjs's descriptor.proto types, to read what reflection sends (CommonJS, so required). */
const descriptor = createRequire(import.meta.url)('protobufjs/ext/descriptor') as Descriptors;

/** What proto-loader says about a message type (a DescriptorProto as an object). */
interface MessageType {
  name: string;
  field?: Array<{ name: string }>;
}

/** go-plugin's client defaults for PLUGIN_MIN_PORT/PLUGIN_MAX_PORT (used when the plugin serves on tcp). */
const PORT_RANGE = { min: 10000, max: 25000 };

/** How the front door's JSON maps to and from the plugin's messages. */
const MESSAGE_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

/** What go-plugin's client puts in a plugin's environment, from the manifest's goPlugin section. */
export function goPluginEnvironment(manifest: Manifest): Record<string, string> {
  const { magicCookie, appProtocolVersions } = manifest.goPlugin!;
  return {
    [magicCookie.key]: magicCookie.value,
    PLUGIN_PROTOCOL_VERSIONS: appProtocolVersions.join(','),
    PLUGIN_MIN_PORT: String(PORT_RANGE.min),
    PLUGIN_MAX_PORT: String(PORT_RANGE.max),
  };
}

/** How long a dropped connection waits for the process's exit to be noticed, to report that instead. */
const EXIT_NOTICE_MS = 1000;

type Unary = protoLoader.MethodDefinition<object, object>;

export class GoPluginClient implements PluginClient {
  private readonly manifest: Manifest;
  private readonly config: NonNullable<Manifest['goPlugin']>;
  private readonly dir: string;
  private readonly stderrTail: () => string[];
  private readonly onProtocolError: (error: WfrError) => void;
  private readonly output: ClientContext['output'];
  /** go-plugin's stdio stream, while it is drained. */
  private stdio: grpc.ClientReadableStream<object> | null = null;
  private failure: WfrError | null = null;
  /** Resolves when fail() is first called. */
  private readonly failed: Promise<void>;
  private markFailed!: () => void;
  /** Settles with the first stdout line's handshake (or the failure that came first). */
  private readonly handshake: Promise<GoPluginHandshake>;
  private resolveHandshake!: (handshake: GoPluginHandshake) => void;
  private rejectHandshake!: (error: WfrError) => void;
  private handshakeSeen = false;
  private channel: grpc.Client | null = null;
  /** Each contract step's method, once the plugin's .proto files are loaded. */
  private readonly methods = new Map<string, Unary>();
  /** The calls in flight, so that a failure ends each with the host's own error. */
  private readonly inFlight = new Map<grpc.ClientUnaryCall | grpc.ClientDuplexStream<object, object>, (error: WfrError) => void>();

  constructor(context: ClientContext) {
    this.manifest = context.manifest;
    this.config = context.manifest.goPlugin!;
    this.dir = context.dir;
    this.stderrTail = context.stderrTail;
    this.onProtocolError = context.onProtocolError;
    this.output = context.output;
    this.handshake = new Promise((resolve, reject) => {
      this.resolveHandshake = resolve;
      this.rejectHandshake = reject;
    });
    this.handshake.catch(() => {});
    this.failed = new Promise((resolve) => (this.markFailed = resolve));
  }

  handleLine(line: string): void {
    if (this.failure || this.handshakeSeen) return; // after the handshake go-plugin sends stdout through its own pipe, not this one
    this.handshakeSeen = true;
    const parsed = parseHandshake(line, this.config.appProtocolVersions);
    if (typeof parsed === 'string') this.fail(new GoPluginHandshakeError(this.manifest.name, parsed, line));
    else this.resolveHandshake(parsed);
  }

  fail(error: WfrError, { protocol = true }: { protocol?: boolean } = {}): void {
    if (this.failure) return;
    this.failure = error;
    this.markFailed();
    this.rejectHandshake(error);
    for (const [call, reject] of this.inFlight) {
      reject(error);
      call.cancel();
    }
    this.inFlight.clear();
    this.stdio?.cancel();
    this.channel?.close();
    // A plugin that broke the protocol cannot be trusted with another call: the host kills it.
    if (protocol) this.onProtocolError(error);
  }

  async initialize(timeoutMs: number): Promise<void> {
    const { name } = this.manifest;
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HandshakeTimeoutError(name, timeoutMs, this.stderrTail(), 'wrote no go-plugin handshake line within {ms} ms; check that it calls plugin.Serve with a GRPCServer, and that goPlugin.magicCookie matches its HandshakeConfig')), timeoutMs);
    });
    try {
      const handshake = await Promise.race([this.handshake, timeout]);
      await this.loadMethods();
      this.channel = new grpc.Client(handshake.target, grpc.credentials.createInsecure());
      await Promise.race([this.connect(handshake, deadline), timeout]);
      await Promise.race([this.checkServedMethods(deadline), timeout]);
      this.drainStdio();
    } catch (error) {
      if (this.failure) throw this.failure;
      if (error instanceof GoPluginHandshakeError) this.fail(error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async health(timeoutMs: number): Promise<void> {
    const reply = (await this.unary(hostMethods.healthCheck, '/grpc.health.v1.Health/Check', { service: GO_PLUGIN_HEALTH_SERVICE }, timeoutMs)) as { status?: string };
    if (reply.status !== 'SERVING') {
      throw new PluginUnhealthyError(this.manifest.name, reply, { check: `grpc.health.v1.Health/Check for service "${GO_PLUGIN_HEALTH_SERVICE}"`, answer: { status: 'SERVING' } });
    }
  }

  async invoke(step: string, input: unknown, timeoutMs: number): Promise<unknown> {
    const method = this.methods.get(step)!;
    const type = method.requestType.type as MessageType;
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new PluginStepFailedError(this.manifest.name, step, `its input must be a JSON object (the fields of ${type.name}), got ${JSON.stringify(input)}`);
    }
    // proto-loader would drop unknown fields without a word; a typo must not silently send an empty field.
    // The request fields the front door adds to every input go only where the message has a field for them.
    const fields = (type.field ?? []).map((field) => field.name);
    const request = Object.fromEntries(Object.entries(input).filter(([key]) => fields.includes(key) || !REQUEST_FIELDS.includes(key)));
    const unknown = Object.keys(request).find((key) => !fields.includes(key));
    if (unknown !== undefined) {
      throw new PluginStepFailedError(this.manifest.name, step, `its input has a field "${unknown}" that ${type.name} does not (its fields: ${fields.join(', ') || 'none'})`);
    }
    return this.unary(method, method.path, request, timeoutMs);
  }

  requestShutdown(graceMs: number): void {
    if (this.failure || !this.channel) return;
    // go-plugin's Shutdown stops the server at once, often before the reply is sent: the process's exit is the answer.
    this.unary(hostMethods.shutdown, '/plugin.GRPCController/Shutdown', {}, graceMs).catch(() => {});
  }

  /**
   * What the plugin writes to os.Stdout and os.Stderr after its handshake: go-plugin 1.4 and later send it
   * over plugin.GRPCStdio, and stall a plugin whose host does not read it. Drained into the logs for as long
   * as the plugin runs; a plugin without the service (UNIMPLEMENTED) has nothing to drain. Off the handshake's
   * path: nothing waits for it.
   */
  private drainStdio(): void {
    const { stdio } = hostMethods;
    const stream = this.channel!.makeServerStreamRequest(stdio.path, stdio.requestSerialize, stdio.responseDeserialize, {});
    this.stdio = stream;
    stream.on('data', ({ channel, data }: { channel?: string; data?: Buffer }) => {
      if (data && data.length > 0) this.output(data, channel === 'STDERR' ? 'stderr' : 'stdout');
    });
    // Its end comes with the plugin's: a shutdown, an exit or a cancelled call. None of them is news.
    stream.on('error', () => {});
  }

  /** The plugin's .proto files: the service must define each mapped method, unary. */
  private async loadMethods(): Promise<void> {
    const { name } = this.manifest;
    const { protoFiles, service, steps } = this.config;
    let definitions: protoLoader.PackageDefinition;
    try {
      definitions = await protoLoader.load(protoFiles, { ...MESSAGE_OPTIONS, includeDirs: [this.dir] });
    } catch (error) {
      throw new GoPluginProtoError(name, `cannot load ${protoFiles.join(', ')}: ${(error as Error).message}`);
    }
    const definition = definitions[service];
    // A message or enum definition has a `format`; a service is a table of methods.
    if (!definition || 'format' in definition) {
      const services = Object.entries(definitions).filter(([, value]) => !('format' in value)).map(([key]) => key);
      throw new GoPluginProtoError(name, `${protoFiles.join(', ')} define no service "${service}" (they define: ${services.join(', ') || 'none'})`);
    }
    const serviceDefinition = definition as protoLoader.ServiceDefinition;
    for (const [step, { method }] of Object.entries(steps)) {
      const found = serviceDefinition[method];
      if (!found) throw new GoPluginProtoError(name, `service ${service} in ${protoFiles.join(', ')} has no method "${method}" (step "${step}"); it has: ${Object.keys(serviceDefinition).join(', ')}`);
      if (found.requestStream || found.responseStream) throw new GoPluginProtoError(name, `method ${service}/${method} (step "${step}") streams; a step calls a unary method`);
      this.methods.set(step, found as Unary);
    }
  }

  /** Wait until the channel to the handshake's address is ready. */
  private connect(handshake: GoPluginHandshake, deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.channel!.waitForReady(deadline, (error) => {
        if (!error) return resolve();
        reject(new GoPluginHandshakeError(this.manifest.name, `nothing answers at ${handshake.network} ${handshake.address}: ${error.message}`, undefined));
      });
    });
  }

  /**
   * With server reflection, the methods the service really serves; a plugin
   * without it (UNIMPLEMENTED) is checked by its probes instead, where a
   * missing method answers UNIMPLEMENTED and is reported the same way.
   */
  private async checkServedMethods(deadline: number): Promise<void> {
    const served = await this.reflectMethods(deadline);
    if (served === null) return;
    for (const { method } of Object.values(this.config.steps)) {
      if (!served.includes(method)) throw goPluginMethodMissing(this.manifest.name, this.config.service, method, served);
    }
  }

  /** The service's method names by reflection, or null when the plugin does not offer reflection. */
  private async reflectMethods(deadline: number): Promise<string[] | null> {
    const { service } = this.config;
    const { reflection } = hostMethods;
    const stream = this.channel!.makeBidiStreamRequest(reflection.path, reflection.requestSerialize, reflection.responseDeserialize, new grpc.Metadata(), { deadline });
    const replies: Array<Record<string, unknown>> = [];
    const done = new Promise<void>((resolve, reject) => {
      this.inFlight.set(stream, reject);
      stream.on('data', (reply: Record<string, unknown>) => {
        replies.push(reply);
        if (replies.length === 2) stream.end();
      });
      stream.on('error', reject);
      stream.on('end', resolve);
    }).finally(() => this.inFlight.delete(stream));
    stream.write({ list_services: '*' });
    stream.write({ file_containing_symbol: service });
    try {
      await done;
    } catch (error) {
      if (this.failure) throw this.failure;
      const status = error as grpc.ServiceError;
      if (status.code === grpc.status.UNIMPLEMENTED) return null;
      throw this.grpcError('grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo', status);
    }
    const [list, files] = replies as [{ list_services_response?: { service: Array<{ name: string }> } }, { file_descriptor_response?: { file_descriptor_proto: Buffer[] } }];
    const services = list?.list_services_response?.service.map((entry) => entry.name) ?? [];
    if (!services.includes(service)) return [];
    for (const bytes of files?.file_descriptor_response?.file_descriptor_proto ?? []) {
      const file = descriptor.FileDescriptorProto.toObject(descriptor.FileDescriptorProto.decode(bytes)) as import('protobufjs/ext/descriptor/index.js').IFileDescriptorProto;
      const prefix = file.package ? `${file.package}.` : '';
      const found = file.service?.find((entry) => `${prefix}${entry.name}` === service);
      if (found) return (found.method ?? []).map((method) => method.name!);
    }
    return [];
  }

  /** One unary call with its own deadline; every failure becomes the host's own error. */
  private async unary(method: Unary, path: string, request: object, timeoutMs: number): Promise<unknown> {
    if (this.failure) throw this.failure;
    const label = path.slice(1);
    try {
      return await new Promise((resolve, reject) => {
        const call = this.channel!.makeUnaryRequest(path, method.requestSerialize, method.responseDeserialize, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (error, reply) => {
          this.inFlight.delete(call);
          if (error) reject(error);
          else resolve(reply);
        });
        this.inFlight.set(call, reject);
      });
    } catch (error) {
      const status = error as grpc.ServiceError;
      // A plugin that died mid-call drops the connection a moment before its exit is seen: report the exit.
      if (status.code === grpc.status.UNAVAILABLE) await Promise.race([this.failed, new Promise((resolve) => setTimeout(resolve, EXIT_NOTICE_MS).unref())]);
      if (this.failure) throw this.failure;
      if (status.code === grpc.status.DEADLINE_EXCEEDED) throw new PluginCallTimeoutError(this.manifest.name, label, timeoutMs);
      if (status.code === grpc.status.UNIMPLEMENTED && path !== hostMethods.healthCheck.path) {
        throw goPluginMethodMissing(this.manifest.name, this.config.service, path.split('/').pop()!, null);
      }
      throw this.grpcError(label, status);
    }
  }

  private grpcError(method: string, status: grpc.ServiceError): WfrError {
    if (typeof status.code !== 'number') return new PluginGrpcError(this.manifest.name, method, grpc.status.UNKNOWN, 'UNKNOWN', String((status as Error).message ?? status));
    return new PluginGrpcError(this.manifest.name, method, status.code, grpc.status[status.code] ?? String(status.code), status.details);
  }
}
