import "./base.css";
import "./dashboard-charts.css";
