import assert from "node:assert/strict";
import { OtlpProtocol, otlpTracesProtocol, tracingConfigured } from "./config.ts";

const env = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });

Deno.test("otlpTracesProtocol: http/protobuf by default, the per-signal variable first", () => {
  assert.equal(otlpTracesProtocol(env({})), OtlpProtocol.Protobuf);
  assert.equal(otlpTracesProtocol(env({ OTEL_EXPORTER_OTLP_PROTOCOL: "" })), "http/protobuf");
  assert.equal(
    otlpTracesProtocol(env({ OTEL_EXPORTER_OTLP_PROTOCOL: " http/json " })),
    "http/json",
  );
  assert.equal(
    otlpTracesProtocol(env({
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf",
    })),
    "http/protobuf",
  );
  assert.equal(
    otlpTracesProtocol(env({
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
    })),
    "http/json",
  );
});

Deno.test("otlpTracesProtocol: grpc and unknown values are a RangeError naming the variable", () => {
  assert.throws(
    () => otlpTracesProtocol(env({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" })),
    {
      name: "RangeError",
      message: 'Cannot use OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="grpc": expected "http/protobuf" ' +
        'or "http/json" (OTLP/gRPC is not supported)',
    },
  );
  assert.throws(
    () => otlpTracesProtocol(env({ OTEL_EXPORTER_OTLP_PROTOCOL: "HTTP/JSON" })),
    {
      name: "RangeError",
      message: 'Cannot use OTEL_EXPORTER_OTLP_PROTOCOL="HTTP/JSON": expected "http/protobuf" ' +
        'or "http/json"',
    },
  );
});

Deno.test("tracingConfigured: an endpoint, unless disabled", () => {
  assert.equal(tracingConfigured(env({})), false);
  assert.equal(tracingConfigured(env({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://x:4318" })), true);
  assert.equal(
    tracingConfigured(
      env({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://x", OTEL_SDK_DISABLED: "TRUE" }),
    ),
    false,
  );
  assert.equal(
    tracingConfigured(
      env({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://x", OTEL_TRACES_EXPORTER: "none" }),
    ),
    false,
  );
});
