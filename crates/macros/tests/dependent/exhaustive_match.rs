// A generated enum is `#[non_exhaustive]`: outside kms-types a match needs a wildcard
// arm, so that a value a newer model adds does not break this code.
use kms_types::ConnectionStateType;

fn is_connected(state: &ConnectionStateType) -> bool {
    match state {
        ConnectionStateType::Connected => true,
        ConnectionStateType::Connecting
        | ConnectionStateType::Disconnected
        | ConnectionStateType::Disconnecting
        | ConnectionStateType::Failed
        | ConnectionStateType::Unknown(_) => false,
    }
}

fn main() {
    assert!(is_connected(&ConnectionStateType::Connected));
}
