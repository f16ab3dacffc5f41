//! An embedded-nal-async TCP stack over tokio, so the adapter runs (and is tested) on a host.

use core::net::SocketAddr;

use embedded_io_adapters::tokio_1::FromTokio;
use embedded_nal_async::TcpConnect;

/// Opens tokio TCP streams (with `TCP_NODELAY`) and adapts them to embedded-io-async.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTcp;

impl TcpConnect for TokioTcp {
    type Error = std::io::Error;
    type Connection<'a> = FromTokio<tokio::net::TcpStream>;

    async fn connect<'a>(
        &'a self,
        remote: SocketAddr,
    ) -> Result<Self::Connection<'a>, Self::Error> {
        let stream = tokio::net::TcpStream::connect(remote).await?;
        stream.set_nodelay(true)?;
        Ok(FromTokio::new(stream))
    }
}
