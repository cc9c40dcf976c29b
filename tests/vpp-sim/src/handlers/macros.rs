//! `register!`: the one place that turns a list of `message => function` pairs into a
//! `register(&mut Registry)` function, used inside every per-release handler expansion.
//!
//! It holds no handler logic of its own.

/// `register! { requests { Msg => handler, .. } streams { Dump => handler, .. } }`
macro_rules! register {
    (
        requests { $($rq:ty => $rf:ident),* $(,)? }
        streams { $($sq:ty => $sf:ident),* $(,)? }
    ) => {
        pub fn register(r: &mut $crate::handlers::Registry) {
            $(
                r.add::<$rq>($crate::handlers::Answer::Reply, |c, p| {
                    $crate::handlers::request(c, p, $rf)
                });
            )*
            $(
                r.add::<$sq>($crate::handlers::Answer::Stream, |c, p| {
                    $crate::handlers::stream(c, p, $sf)
                });
            )*
        }
    };
}
