// TODO(web): AdminApps screen.
export function AdminApps() {
  return <h1>AdminApps</h1>;
}
