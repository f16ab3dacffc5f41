//! A two-future race without an executor dependency: the async DHT driver bounds
//! every edge wait by racing it against a delay.

use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::Poll;

/// Which future finished first.
pub(crate) enum Either<A, B> {
    First(A),
    Second(B),
}

/// Poll `first` then `second` until one is ready; the other is dropped. On a
/// tie `first` wins, so pass the awaited event first and the timeout second.
pub(crate) async fn race<A: Future, B: Future>(
    first: A,
    second: B,
) -> Either<A::Output, B::Output> {
    let mut first = pin!(first);
    let mut second = pin!(second);
    poll_fn(move |cx| {
        if let Poll::Ready(out) = first.as_mut().poll(cx) {
            return Poll::Ready(Either::First(out));
        }
        if let Poll::Ready(out) = second.as_mut().poll(cx) {
            return Poll::Ready(Either::Second(out));
        }
        Poll::Pending
    })
    .await
}
