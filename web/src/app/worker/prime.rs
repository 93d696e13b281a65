//! Priming before a run: browsers compile wasm functions on their first
//! call, which would otherwise land in the first requests' schedule lag
//! (about 10 ms here). So before the clock starts, the worker runs the
//! real plan for two requests through core's runner against a loopback
//! transport (a small image answered at once, nothing sent), and walks
//! the fetch transport's request building and body reading once, with one
//! `fetch` of the app's own `worker.js`.

use crate::app::platform::fetch::FetchTransport;
use crate::app::platform::runtime::WebRuntime;
use imgperf_core::plan::Workload;
use imgperf_core::platform::{MaybeSend, Runtime};
use imgperf_core::request::EndpointConfig;
use imgperf_core::runner::{self, Arrivals, Completed, RecordSink, RunPlan, RunSettings};
use imgperf_core::stop::StopSignal;
use imgperf_core::transport::{
    HttpRequest, HttpResponse, Method, Timing, Transport, TransportFailure,
};
use std::future::Future;
use std::sync::Arc;

/// A 1×1 PNG in an Images API body.
const BODY: &str = r#"{"created":0,"data":[{"b64_json":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"}]}"#;

/// Answers every request at once with [`BODY`].
#[derive(Clone, Copy)]
struct Loopback(WebRuntime);

impl Transport for Loopback {
    fn send(
        &self,
        _request: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse, TransportFailure>> + MaybeSend {
        let rt = self.0;
        async move {
            let now = rt.now_ns();
            Ok(HttpResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: BODY.as_bytes().to_vec().into(),
                timing: Timing {
                    first_byte_ns: Some(now),
                    end_ns: rt.now_ns(),
                    ..Timing::starting_at(now)
                },
                chunks: vec![(now, BODY.len())],
            })
        }
    }
}

/// Keeps the lines, as the run's sink does, then drops them.
struct Discard;

impl RecordSink for Discard {
    fn accept(&mut self, done: Completed) {
        let _ = done.raw_line.map(|r| r.to_vec());
    }
}

/// Run the plan's code paths once, off the record.
pub async fn prime(
    endpoint: &EndpointConfig,
    workload: &Workload,
    settings: &RunSettings,
    fetch: &FetchTransport,
) {
    let rt = WebRuntime::new();
    let mut settings = settings.clone();
    settings.request_count = Some(2);
    settings.warmup_request_count = 0;
    settings.concurrency = Some(2);
    let plan = RunPlan {
        endpoint,
        workload,
        settings: &settings,
    };
    // A video job polls: the loopback answers images only.
    if !endpoint.kind.is_video() {
        runner::run(
            plan,
            Arrivals::Closed,
            Arc::new(Loopback(rt)),
            rt,
            &mut Discard,
            &StopSignal::new(),
        )
        .await;
    }
    if let Some(item) = workload.items.first() {
        let request = HttpRequest {
            method: Method::Post,
            url: endpoint.url_for(0),
            headers: endpoint.headers_for("prime", "prime"),
            body: item.body.clone(),
        };
        fetch.prime(&request, BODY.as_bytes(), "worker.js").await;
    }
}
