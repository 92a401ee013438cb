// TODO(web): AdminAudit screen.
export function AdminAudit() {
  return <h1>AdminAudit</h1>;
}
