// TODO(web): DevApps screen.
export function DevApps() {
  return <h1>DevApps</h1>;
}
