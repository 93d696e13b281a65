//! Connection lanes: reqwest clients that each carry one exchange at a time,
//! so a lane's pool holds at most one keep-alive connection per host, and
//! each lane remembers which connection (by its local address) carried its
//! last exchange. A request that fails on that same connection went out on
//! a reused one; reqwest does not say so itself, but its errors carry the
//! connection's addresses (hyper-util's connect info).

use std::net::SocketAddr;
use std::sync::Mutex;

use hyper_util::client::legacy::connect::HttpInfo;

/// One client and the connection of its last exchange.
#[derive(Debug)]
pub(super) struct Lane {
    client: reqwest::Client,
    last_connection: Option<SocketAddr>,
}

impl Lane {
    fn new() -> anyhow::Result<Lane> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .no_proxy()
            .build()?;
        Ok(Lane {
            client,
            last_connection: None,
        })
    }

    pub(super) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// A response head arrived on this connection: it may be reused next.
    pub(super) fn answered_on(&mut self, response: &reqwest::Response) {
        self.last_connection = response
            .extensions()
            .get::<HttpInfo>()
            .map(HttpInfo::local_addr);
    }

    /// Whether `err` happened on the connection that carried this lane's
    /// previous exchange (so the request went out on a reused connection).
    pub(super) fn failed_on_reused(&self, err: &reqwest::Error) -> bool {
        self.last_connection.is_some() && failed_connection(err) == self.last_connection
    }
}

/// The local address of the connection an error happened on, if known.
fn failed_connection(err: &reqwest::Error) -> Option<SocketAddr> {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = src {
        if let Some(h) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
            let mut extras = http::Extensions::new();
            h.connect_info()?.get_extras(&mut extras);
            return extras.get::<HttpInfo>().map(HttpInfo::local_addr);
        }
        src = e.source();
    }
    None
}

/// Lanes not in use, most recently used last (its connection is the warmest).
#[derive(Debug)]
pub(super) struct Lanes {
    idle: Mutex<Vec<Lane>>,
}

impl Lanes {
    /// `ready` lanes made up front, so no run pays for making them.
    pub(super) fn new(ready: usize) -> anyhow::Result<Lanes> {
        let idle = (0..ready).map(|_| Lane::new()).collect::<Result<_, _>>()?;
        Ok(Lanes {
            idle: Mutex::new(idle),
        })
    }

    /// An idle lane, or a new one when every lane is busy.
    pub(super) fn take(&self) -> anyhow::Result<Lane> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some(lane) => Ok(lane),
            None => Lane::new(),
        }
    }

    /// Return a lane after its exchange (a cancelled exchange drops its lane).
    pub(super) fn put_back(&self, lane: Lane) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(lane);
    }
}
