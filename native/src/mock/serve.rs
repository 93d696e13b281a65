//! The mock's accept loop: hyper's HTTP/1.1 server over the axum router, as
//! `axum::serve` runs it, plus what `axum::serve` cannot do: a handler may
//! have its connection closed after its answer, or at once without one,
//! never saying `Connection: close`. That is what SGLang's server (uvicorn)
//! does after an unhandled exception, and what catches a client that puts
//! its next request on a pooled connection the server has already closed.

use std::convert::Infallible;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch, Notify};

/// How long a connection marked to close after its answer stays open once
/// the answer is written, answering nothing more: long enough that a client
/// reusing it at once has written its next request on it, so the request
/// meets a closed connection however fast the client is.
pub(crate) const CLOSE_LINGER: Duration = Duration::from_millis(10);

const OPEN: u8 = 0;
const AFTER_ANSWER: u8 = 1;
const ABORT: u8 = 2;

#[derive(Default)]
struct ConnState {
    mode: AtomicU8,
    notify: Notify,
}

/// A handler's hold on its connection (a request extension).
#[derive(Clone)]
pub(crate) struct ConnControl(Arc<ConnState>);

impl ConnControl {
    /// Close the connection once this request's answer is written, without
    /// `Connection: close`; later requests on it get no answer.
    pub(crate) fn close_after_answer(&self) {
        let _ =
            self.0
                .mode
                .compare_exchange(OPEN, AFTER_ANSWER, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// Close the connection now, answering nothing.
    pub(crate) fn abort(&self) {
        self.0.mode.store(ABORT, Ordering::SeqCst);
        self.0.notify.notify_one();
    }
}

/// Serve `app` on `listener` until `stop` fires, then let open connections
/// finish their current request.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    mut stop: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let (drain, draining) = watch::channel(());
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream, app.clone(), draining.clone()));
                }
                // Out of file descriptors or a connection gone before it was
                // accepted: wait a little and go on, as axum::serve does.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
        }
    }
    drop(listener);
    drop(draining);
    let _ = drain.send(());
    drain.closed().await;
    Ok(())
}

async fn connection(stream: TcpStream, app: Router, mut draining: watch::Receiver<()>) {
    let state = Arc::new(ConnState::default());
    let conn_state = state.clone();
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        let state = conn_state.clone();
        let mut app = app.clone();
        async move {
            if state.mode.load(Ordering::SeqCst) != OPEN {
                // The connection is closing: this request is never handled.
                return std::future::pending::<Result<Response, Infallible>>().await;
            }
            req.extensions_mut().insert(ConnControl(state.clone()));
            let resp = tower_service::Service::call(&mut app, req).await?;
            if state.mode.load(Ordering::SeqCst) != AFTER_ANSWER {
                return Ok(resp);
            }
            let (parts, body) = resp.into_parts();
            let body = NotifyWhenDone { inner: body, state };
            Ok(Response::from_parts(parts, Body::new(body)))
        }
    });
    let mut conn =
        pin!(hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service));
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = state.notify.notified() => match state.mode.load(Ordering::SeqCst) {
                ABORT => return,
                AFTER_ANSWER => {
                    let _ = tokio::time::timeout(CLOSE_LINGER, conn.as_mut()).await;
                    return;
                }
                _ => {}
            },
            _ = draining.changed() => {
                conn.as_mut().graceful_shutdown();
                let _ = conn.as_mut().await;
                return;
            }
        }
    }
}

/// A response body that tells the connection when it has been sent (hyper
/// drops a body once its last frame is out).
struct NotifyWhenDone {
    inner: Body,
    state: Arc<ConnState>,
}

impl Drop for NotifyWhenDone {
    fn drop(&mut self) {
        self.state.notify.notify_one();
    }
}

impl http_body::Body for NotifyWhenDone {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
