// `node --import @qun/sdk/testing/register --test`: maps the component's
// imports `qun:app/<interface>@0.2.0` to the in-memory host of the test
// harness, so an app's modules load and run under plain Node.
import { register } from 'node:module';

register('./hooks.js', import.meta.url);
