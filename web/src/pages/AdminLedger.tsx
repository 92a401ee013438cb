// TODO(web): AdminLedger screen.
export function AdminLedger() {
  return <h1>AdminLedger</h1>;
}
