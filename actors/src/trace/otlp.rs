//! The OTLP exporter (feature `otlp`): spans of this workspace's crates go to an OpenTelemetry
//! collector over OTLP/HTTP with protobuf bodies, batched on the SDK's own thread. The endpoint,
//! headers and batching come from the standard env (`OTEL_EXPORTER_OTLP_ENDPOINT` plus
//! `/v1/traces`, or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; `OTEL_BSP_SCHEDULE_DELAY`, ...);
//! the service name is `vpp-agent` unless `OTEL_SERVICE_NAME` says otherwise.
//!
//! Deliberately not here: gRPC export, metrics and logs over OTLP.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::SpanExporter;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;

/// The tracer provider; flushed and shut down when dropped.
#[derive(Debug)]
pub(super) struct Exporter(SdkTracerProvider);

impl Drop for Exporter {
    fn drop(&mut self) {
        if let Err(e) = self.0.shutdown() {
            eprintln!("vpp-agent: otlp exporter shutdown: {e}");
        }
    }
}

/// The exporter and the layer feeding it spans of `targets`.
pub(super) fn build(targets: Targets) -> anyhow::Result<(Exporter, super::BoxedLayer)> {
    let exporter = SpanExporter::builder().with_http().build()?;
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("vpp-agent");
    }
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build();
    let tracer = provider.tracer("vpp-agent");
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(targets)
        .boxed();
    Ok((Exporter(provider), layer))
}
