// TODO(web): GroupApps screen.
export function GroupApps() {
  return <h1>GroupApps</h1>;
}
