//! The local IoT Explorer hub (being written).
